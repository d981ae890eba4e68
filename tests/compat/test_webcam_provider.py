"""An OctoPrint ``WebcamProviderPlugin`` (written as OctoPrint's testpicture plugin is) on a live
octohost: its camera in ``/api/settings``, its snapshots through the proxy and the timelapse."""

import pytest

pytestmark = pytest.mark.e2e

PROVIDER = '''
import octoprint.plugin
from octoprint.schema.webcam import RatioEnum, Webcam, WebcamCompatibility

PICTURE = bytes.fromhex("ffd8ffe000104a46494600") + b"test picture" + bytes.fromhex("ffd9")


class TestPicture(octoprint.plugin.WebcamProviderPlugin):
    def get_webcam_configurations(self):
        return [Webcam(name="testpicture", displayName="Test picture", canSnapshot=True, snapshotDisplay="a picture",
                       flipV=True, compat=WebcamCompatibility(stream="/plugin/testpicture/stream",
                                                              streamRatio=RatioEnum.four_three))]

    def take_webcam_snapshot(self, name):
        assert name == "testpicture"
        return iter([PICTURE[:5], PICTURE[5:]])


__plugin_pythoncompat__ = ">=3.7,<4"
__plugin_implementation__ = TestPicture()
'''


def test_a_webcam_provider_plugins_camera_is_listed_snapshotted_and_used_for_timelapses(fake_dist, live_octoprint):
    fake_dist("OctoPrint-TestPicture", "testpicture", "octoprint_testpicture_mod", PROVIDER)
    live = live_octoprint(connect_virtual=False, settings_values={"webcam.timelapse.type": "zchange"})
    webcam = live.get("/api/settings").json()["webcam"]
    cameras = {camera["name"]: camera for camera in webcam["webcams"]}
    assert cameras["testpicture"]["provider"] == "testpicture" and cameras["testpicture"]["flipV"] is True
    assert cameras["testpicture"]["compat"]["streamRatio"] == "4:3"
    assert webcam["snapshotWebcam"] == "testpicture"  # the classic camera has no snapshot URL
    picture = live.get("/downloads/camera/current")
    assert picture.status_code == 200 and picture.content.endswith(b"test picture\xff\xd9")
    assert live.get("/api/timelapse").json()["config"]["type"] == "zchange"
