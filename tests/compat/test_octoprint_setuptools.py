"""``octoprint_setuptools``: the setup parameters older plugin templates build their package from."""

import os

import pytest

import octoprint_setuptools


def _plugin_tree(root, package):
    for folder in (package, f"{package}/sub", f"{package}/static/js", f"{package}/templates"):
        os.makedirs(root / folder, exist_ok=True)
    for path in (f"{package}/__init__.py", f"{package}/sub/__init__.py", f"{package}/static/js/a.js",
                 f"{package}/templates/x_settings.jinja2"):
        (root / path).write_text("")


def test_parameters_name_the_entry_point_packages_and_data_without_requiring_octoprint(tmp_path):
    _plugin_tree(tmp_path, "octoprint_demo")
    params = octoprint_setuptools.create_plugin_setup_parameters(
        identifier="demo", name="OctoPrint-Demo", version="1.2", source_folder=str(tmp_path),
        requires=["OctoPrint>=1.4", "bleach >=5,<6"], extra_requires={"dev": ["pytest"]})
    assert params["entry_points"] == {"octoprint.plugin": ["demo = octoprint_demo"]}
    assert params["packages"] == ["octoprint_demo", "octoprint_demo.sub"]
    assert sorted(params["package_data"]["octoprint_demo"]) == ["static/js/a.js", "templates/x_settings.jinja2"]
    # OctoPrint itself must not be installed beside octohost: its requirement is dropped, others kept
    assert params["install_requires"] == ["bleach >=5,<6"]
    assert params["extras_require"] == {"dev": ["pytest"]}
    assert (params["name"], params["version"], params["zip_safe"]) == ("OctoPrint-Demo", "1.2", False)


def test_an_explicit_package_name_and_bad_argument_types(tmp_path):
    _plugin_tree(tmp_path, "octoprint_HeaderAnnouncements")
    params = octoprint_setuptools.create_plugin_setup_parameters(
        identifier="HeaderAnnouncements", package="octoprint_HeaderAnnouncements", source_folder=str(tmp_path))
    assert params["entry_points"]["octoprint.plugin"] == ["HeaderAnnouncements = octoprint_HeaderAnnouncements"]
    with pytest.raises(ValueError, match="requires must be a list"):
        octoprint_setuptools.create_plugin_setup_parameters(requires="OctoPrint", source_folder=str(tmp_path))


def test_has_requirement_compares_distribution_names():
    assert octoprint_setuptools.has_requirement("OctoPrint", ["octoprint>=1.4"])
    assert octoprint_setuptools.has_requirement("flask_login", ["Flask-Login==0.6"])
    assert not octoprint_setuptools.has_requirement("OctoPrint", ["OctoPrint-Foo"])
