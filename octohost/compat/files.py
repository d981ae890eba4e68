"""``_file_manager`` as OctoPrint plugins call it: the storage first (``path_on_disk("local", path)``).

octohost has one storage, ``local`` (files on the SD card are the printer's business); a call for
another storage raises :class:`NotImplementedError`, which is what OctoPrint's storages raise for
operations they do not support, so plugins already handle it.
"""

from octohost.files.entries import STORAGE


class OctoPrintFileManager:
    def __init__(self, file_manager):
        self._files = file_manager

    @staticmethod
    def _local(storage):
        if storage != STORAGE:
            raise NotImplementedError(f"octohost has no storage {storage!r}")

    def path_on_disk(self, storage, path):
        self._local(storage)
        return self._files.path_on_disk(path)

    def file_exists(self, storage, path):
        self._local(storage)
        return self._files.file_exists(path)

    def folder_exists(self, storage, path):
        self._local(storage)
        return self._files.folder_exists(path)

    def list_files(self, locations=None, path=None, filter=None, recursive=True, level=0, force_refresh=False,
                   **kwargs):
        if locations is None:
            locations = [STORAGE]
        elif isinstance(locations, str):
            locations = [locations]
        result = {}
        for location in locations:
            self._local(location)
            result[location] = self._files.list_files(path or "", recursive=recursive, filter=filter)
        return result

    def get_metadata(self, storage, path):
        self._local(storage)
        return self._files.get_metadata(path)

    def set_additional_metadata(self, storage, path, key, data, overwrite=False, merge=False):
        self._local(storage)
        return self._files.set_additional_metadata(path, key, data, overwrite=overwrite, merge=merge)

    def remove_additional_metadata(self, storage, path, key):
        self._local(storage)
        return self._files.remove_additional_metadata(path, key)

    def remove_file(self, storage, path):
        self._local(storage)
        return self._files.remove_file(path)

    def add_folder(self, storage, path, ignore_existing=True, display=None):
        self._local(storage)
        return self._files.add_folder(path, ignore_existing=ignore_existing)

    def sanitize_name(self, storage, name):
        self._local(storage)
        return self._files.sanitize_name(name)

    def sanitize_path(self, storage, path):
        self._local(storage)
        return self._files.sanitize_path(path)

    def __getattr__(self, name):
        """Anything else as octohost's file manager has it (same names, octohost's signatures)."""
        return getattr(self._files, name)
