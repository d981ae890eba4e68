from setuptools import find_packages, setup


def read_version():
    ns = {}
    with open("octohost/__init__.py", encoding="utf-8") as f:
        exec(f.read(), ns)
    return ns["__version__"]


setup(
    name="octohost",
    version=read_version(),
    description="A host daemon for one 3D printer: fast serial streaming, OctoPrint-compatible API, web UI",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    license="AGPL-3.0-or-later",
    python_requires=">=3.10",
    packages=find_packages(include=["octohost", "octohost.*"]),
    include_package_data=True,
    package_data={"octohost": ["templates/**/*", "static/**/*"]},
    install_requires=[
        "flask>=3.1",
        "werkzeug>=3.1",
        "tornado>=6.6",
        "pyserial>=3.5",
        "pluggy>=1.6",
        "pyyaml>=6.0",
        "jinja2>=3.1",
        "click>=8.4",
        "sockjs-tornado==1.0.7",  # octohost/server/sockjs_patch.py patches its internals (see its test)
        "regex>=2024.11.6",
    ],
    extras_require={
        "test": [
            "pytest>=9.0",
            "pytest-timeout>=2.4",
            "requests>=2.34",
            "websocket-client>=1.9",
            "playwright>=1.65",
            "octorest>=0.4",
            "psutil>=7.2",
            "hypothesis>=6.150",
            # lint and type checks, run by .ci/run before the tests (ruff.toml, mypy.ini)
            "ruff>=0.17,<0.18",
            "mypy>=2.4,<2.5",
            "types-PyYAML>=6.0",
        ],
    },
    entry_points={"console_scripts": ["octohost = octohost.cli:main"]},
    classifiers=[
        "Programming Language :: Python :: 3",
        "Environment :: Web Environment",
        "Topic :: Printing",
    ],
)
