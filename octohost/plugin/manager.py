"""The plugin manager: loads plugins, keeps their hook handlers ordered, calls them safely.

pluggy validates native plugins (``@hookimpl`` functions named after a spec) and holds them;
OctoPrint-style ``__plugin_hooks__`` dicts are kept beside it. Both end up in one ordered,
cached tuple per hook (:meth:`PluginManager.handlers`), which is what the serial loops iterate:
an empty tuple when nobody implements a hook, so the no-handler case costs one dict lookup.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from typing import Any

import pluggy

from . import loader
from .handlers import Handlers, run_handlers
from .specs import PROJECT, SPEC_PARAMS, HookSpecs, canonical_name, canonical_to_pluggy

log = logging.getLogger(__name__)


class PluginInfo:
    """What is known about one plugin, loaded or not."""

    def __init__(self, identifier: str, origin: str, path: str) -> None:
        self.identifier = identifier
        self.origin = origin
        self.path = path
        self.module: Any = None
        self.name = identifier
        self.version: str | None = None
        self.description = ""
        self.author = ""
        self.url = ""
        self.license = ""
        self.implementation: Any = None
        self.hooks: dict[str, tuple[Callable[..., Any], float | None]] = {}  # canonical name -> (callable, order)
        self.native_hooks: list[str] = []  # canonical names implemented via @hookimpl
        self.enabled = True
        self.loaded = False
        self.error: str | None = None

    @property
    def bundled(self) -> bool:
        return self.origin == "bundled"

    def implemented_hooks(self) -> list[str]:
        return sorted(set(self.hooks) | set(self.native_hooks))

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.identifier, "name": self.name, "version": self.version,
            "description": self.description, "author": self.author, "url": self.url,
            "license": self.license, "origin": self.origin, "path": self.path,
            "enabled": self.enabled, "loaded": self.loaded, "bundled": self.bundled,
            "error": self.error, "hooks": self.implemented_hooks(),
        }


def order(value: float) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Give a native ``@hookimpl`` an order number (lower runs first, as in ``__plugin_hooks__``)."""

    def mark(fn: Callable[..., Any]) -> Callable[..., Any]:
        fn.octohost_order = value  # type: ignore[attr-defined]
        return fn

    return mark


class PluginManager:
    def __init__(self, settings: Any = None, safe_mode: bool = False) -> None:
        self.settings = settings
        self.safe_mode = safe_mode
        self.plugins: dict[str, PluginInfo] = {}  # identifier -> PluginInfo, loaded or not
        self._pm = pluggy.PluginManager(PROJECT)
        self._pm.add_hookspecs(HookSpecs)
        self._lock = threading.RLock()
        self._cache: dict[str, Handlers] = {}
        self._components: dict[str, Any] = {}
        self.logger = log

    # -- discovery -----------------------------------------------------------------------------

    def disabled_ids(self) -> set[str]:
        if self.settings is None:
            return set()
        return set(self.settings.get("plugins._disabled") or [])

    def plugin_folder(self) -> str | None:
        return self.settings.folder("plugins") if self.settings is not None else None

    def discover(self, bundled: bool = True, entry_points: bool = True, folder: bool = True) -> dict[str, PluginInfo]:
        """Find and load every plugin from every source (bundled ones first; first id wins)."""
        candidates = []
        if bundled:
            candidates += loader.bundled_candidates()
        if entry_points and not self.safe_mode:
            candidates += loader.entry_point_candidates()
            candidates += _octoprint_candidates(self.settings)
        if folder and not self.safe_mode:
            candidates += loader.folder_candidates(self.plugin_folder())
        for candidate in candidates:
            self.load_candidate(candidate)
        return self.plugins

    def load_candidate(self, candidate: loader.Candidate) -> PluginInfo | None:
        if candidate.identifier in self.plugins:
            log.warning("plugin %s from %s ignored: a plugin with that identifier is already known (%s)",
                        candidate.identifier, candidate.path, self.plugins[candidate.identifier].path)
            return None
        info = PluginInfo(candidate.identifier, candidate.origin, candidate.path)
        self.plugins[info.identifier] = info
        if info.identifier in self.disabled_ids():
            info.enabled = False
            log.info("plugin %s is disabled, not loading it", info.identifier)
            return info
        try:
            module = candidate.load()
            self._register_module(info, module)
        except Exception as exc:
            info.error = f"{type(exc).__name__}: {exc}"
            info.loaded = False
            self._unregister(info)
            log.exception("plugin %s (%s) failed to load and is skipped", info.identifier, info.path)
        return info

    def register_module(self, identifier: str, module: Any, origin: str = "bundled",
                        path: str | None = None) -> PluginInfo | None:
        """Register an already imported module or object as plugin (used by tests and bundles)."""
        return self.load_candidate(loader.Candidate(identifier, origin, path or repr(module), lambda: module))

    def _register_module(self, info, module):
        info.module = module
        check = getattr(module, "__plugin_check__", None)
        if callable(check) and not check():
            info.error = "__plugin_check__ returned False"
            return
        load = getattr(module, "__plugin_load__", None)
        if callable(load):
            load()
        info.name = getattr(module, "__plugin_name__", info.identifier)
        info.version = getattr(module, "__plugin_version__", None)
        info.description = getattr(module, "__plugin_description__", "")
        info.author = getattr(module, "__plugin_author__", "")
        info.url = getattr(module, "__plugin_url__", "")
        info.license = getattr(module, "__plugin_license__", "")
        info.implementation = getattr(module, "__plugin_implementation__", None)
        hooks = getattr(module, "__plugin_hooks__", None) or {}
        if not isinstance(hooks, dict):
            raise TypeError("__plugin_hooks__ must be a dict of hook name to callback or (callback, order)")
        for name, value in hooks.items():
            callback, order_value = value if isinstance(value, tuple) else (value, None)
            if not callable(callback):
                raise TypeError(f"__plugin_hooks__[{name!r}] is not callable")
            if order_value is not None and not isinstance(order_value, (int, float)):
                raise TypeError(f"__plugin_hooks__[{name!r}] has a non-numeric order {order_value!r}")
            info.hooks[canonical_name(name)] = (callback, order_value)
        self._inject_basics(info)
        with self._lock:
            for obj in (module, info.implementation):
                if obj is not None and self._pm.get_name(obj) is None and self._has_hookimpls(obj):
                    self._pm.register(obj, name=f"{info.identifier}:{id(obj)}")
            info.native_hooks = sorted({
                canonical_name(impl_name)
                for obj in (module, info.implementation) if obj is not None and self._pm.is_registered(obj)
                for impl_name in self._hook_names_of(obj)
            })
            info.loaded = True
            self._cache.clear()
        if self._components and info.implementation is not None:
            self._inject_components(info)

    @staticmethod
    def _has_hookimpls(obj):
        return any(hasattr(getattr(obj, attr, None), f"{PROJECT}_impl")
                   for attr in dir(obj) if not attr.startswith("__"))

    def _hook_names_of(self, obj):
        return [caller.name for caller in self._pm.get_hookcallers(obj) or []]

    def _unregister(self, info):
        with self._lock:
            for obj in (info.module, info.implementation):
                if obj is not None and self._pm.is_registered(obj):
                    self._pm.unregister(obj)
            info.hooks = {}
            info.native_hooks = []
            self._cache.clear()

    # -- what plugins see ----------------------------------------------------------------------

    def _inject_basics(self, info):
        impl = info.implementation
        if impl is None:
            return
        from .settings import PluginSettings

        values = {
            "_identifier": info.identifier,
            "_plugin_name": info.name,
            "_plugin_version": info.version,
            "_basefolder": os.path.dirname(info.path) if info.path and os.path.exists(info.path) else None,
            "_logger": logging.getLogger(f"octohost.plugins.{info.identifier}"),
            "_plugin_manager": self,
        }
        if self.settings is not None:
            values["_settings"] = PluginSettings(self.settings, info.identifier)
            values["_data_folder"] = os.path.join(self.settings.folder("data"), info.identifier)
        for key, value in values.items():
            try:
                setattr(impl, key, value)
            except Exception:
                pass
        if info.origin == "octoprint":
            from octohost.compat import layer

            layer.inject(self, info)

    def component(self, name: str) -> Any:
        """A component of the running system handed in by :meth:`inject_components` (None before)."""
        return self._components.get(name)

    def inject_components(self, **components: Any) -> None:
        """Hand the running system (printer, event bus, ...) to every implementation as ``_name``.

        Calls ``initialize()`` on implementations that have it, once the components are in.
        """
        self._components.update(components)
        for info in self.enabled_plugins():
            if info.implementation is not None:
                self._inject_components(info)

    def _inject_components(self, info):
        own = _octoprint_own_attributes() if info.origin == "octoprint" else ()
        for key, value in self._components.items():
            if key in own:
                continue
            try:
                setattr(info.implementation, f"_{key}", value)
            except Exception:
                pass
        init = getattr(info.implementation, "initialize", None)
        if callable(init) and not getattr(info.implementation, "_octohost_initialized", False):
            try:
                info.implementation._octohost_initialized = True
            except Exception:
                pass
            self.call_implementation(info, "initialize")
            if info.origin == "octoprint":
                _octoprint_after_initialize(self, info)

    def call_implementations(self, method: str, *args: Any, **kwargs: Any) -> list[tuple[str, Any]]:
        """Call ``method`` on every loaded implementation that has it; errors are logged and skipped."""
        results = []
        for info in self.enabled_plugins():
            if info.implementation is not None and callable(getattr(info.implementation, method, None)):
                results.append((info.identifier, self.call_implementation(info, method, *args, **kwargs)))
        return results

    def call_implementation(self, info: PluginInfo, method: str, *args: Any, **kwargs: Any) -> Any:
        try:
            return getattr(info.implementation, method)(*args, **kwargs)
        except Exception:
            log.exception("plugin %s raised in %s()", info.identifier, method)
            return None

    def enabled_plugins(self) -> list[PluginInfo]:
        return [info for info in self.plugins.values() if info.loaded and info.enabled]

    # -- hooks ---------------------------------------------------------------------------------

    def handlers(self, name: str) -> Handlers:
        """Ordered handlers of hook ``name``: a tuple of (plugin identifier, callable).

        Order as in the hook reference: handlers with an order number first, ascending, ties by
        plugin identifier; then those without one, by identifier. Cached until plugins change.
        """
        try:
            return self._cache[name]
        except KeyError:
            pass
        canonical = canonical_name(name)
        with self._lock:
            entries = []
            for info in self.enabled_plugins():
                if canonical in info.hooks:
                    callback, order_value = info.hooks[canonical]
                    entries.append((order_value, info.identifier, callback))
            pluggy_name = canonical_to_pluggy(canonical)
            caller = getattr(self._pm.hook, pluggy_name, None)
            if caller is not None:
                owners = self._owner_ids()
                for impl in caller.get_hookimpls():
                    identifier = owners.get(id(impl.plugin))
                    if identifier is None:
                        continue
                    entries.append((getattr(impl.function, "octohost_order", None), identifier,
                                    _keyword_adapter(pluggy_name, impl)))
            entries.sort(key=lambda e: (e[0] is None, e[0] if e[0] is not None else 0, e[1]))
            result = tuple((identifier, callback) for _, identifier, callback in entries)
            self._cache[name] = result
            return result

    def _owner_ids(self):
        owners = {}
        for info in self.enabled_plugins():
            for obj in (info.module, info.implementation):
                if obj is not None:
                    owners[id(obj)] = info.identifier
        return owners

    def has_handlers(self, name: str) -> bool:
        return bool(self.handlers(name))

    def call(self, hook: str, /, *args: Any, **kwargs: Any) -> list[tuple[str, Any]]:
        """Call every handler of ``hook`` in order (through :func:`.handlers.run_handlers`).

        Returns a list of (plugin identifier, result) for the handlers that returned normally.
        """
        handlers = self.handlers(hook)
        if not handlers:
            return []
        return list(run_handlers(hook, handlers, lambda handler: handler(*args, **kwargs)))

    def call_until(self, hook: str, predicate: Callable[[Any], bool], /, *args: Any,
                   **kwargs: Any) -> tuple[str | None, Any]:
        """Like :meth:`call`, but stop at and return the first result for which ``predicate`` is true."""
        handlers = self.handlers(hook)
        if not handlers:
            return None, None
        for identifier, result in run_handlers(hook, handlers, lambda handler: handler(*args, **kwargs)):
            if predicate(result):
                return identifier, result
        return None, None

    def set_enabled(self, identifier: str, enabled: bool) -> None:
        """Persist enabling or disabling a plugin; takes effect on the next start."""
        disabled = self.disabled_ids()
        disabled.discard(identifier) if enabled else disabled.add(identifier)
        if self.settings is not None:
            self.settings.set("plugins._disabled", sorted(disabled))


def _octoprint_candidates(settings: Any) -> list[loader.Candidate]:
    """OctoPrint plugins (``octoprint.plugin`` entry points), via the compatibility layer."""
    from octohost.compat import discovery

    return discovery.candidates(settings)


def _octoprint_after_initialize(manager: PluginManager, info: PluginInfo) -> None:
    from octohost.compat import layer

    layer.after_initialize(manager, info)


def _octoprint_own_attributes() -> frozenset[str]:
    from octohost.compat import layer

    return layer.OWN_ATTRIBUTES


def _keyword_adapter(pluggy_name, impl):
    """Let a pluggy hookimpl be called like an OctoPrint handler (positional + keywords).

    The impl names a subset of the spec's parameters; each is fetched from the positional
    arguments by its index in the spec, or from the keywords.
    """
    positional, _ = SPEC_PARAMS.get(pluggy_name, ((), ()))
    index = {name: i for i, name in enumerate(positional)}
    sources = tuple((index.get(name, -1), name) for name in impl.argnames + tuple(impl.kwargnames))
    function = impl.function

    def call(*args, **kwargs):
        count = len(args)
        return function(*[args[i] if 0 <= i < count else kwargs.get(name) for i, name in sources])

    call.__wrapped__ = function
    return call
