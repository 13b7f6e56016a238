"""Build of the optional C accelerators; everything else is in pyproject.toml.

The extension is optional: where no C compiler is at hand the build goes on
without it, and socialcredit runs the same pure-Python code it accelerates."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "socialcredit.native._speedups",
            ["src/socialcredit/native/_speedups.c"],
            depends=["src/socialcredit/native/text_rules.h"],
            optional=True,
            libraries=["crypto"],
            extra_compile_args=["-O2"],
        )
    ]
)
