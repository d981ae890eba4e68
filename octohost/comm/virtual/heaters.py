"""Heaters that approach their target over simulated time, and Marlin's temperature report."""


class Heater:
    """One heater: moves linearly towards its target (or ambient when off) at ``rate`` degC/s."""

    def __init__(self, idle, rate):
        self.idle = idle
        self.rate = rate
        self.actual = idle
        self.target = 0.0

    def advance(self, seconds):
        goal = self.target if self.target > 0 else self.idle
        step = self.rate * seconds
        if abs(goal - self.actual) <= step:
            self.actual = goal
        else:
            self.actual += step if goal > self.actual else -step

    def reached(self, window, cooling_too):
        """M109 S waits only while heating; R (and M190 R) also waits while cooling."""
        if self.target <= 0:
            return True
        if self.actual >= self.target - window:
            return cooling_too is False or self.actual <= self.target + window
        return False

    @property
    def power(self):
        return 127 if self.target > 0 and self.actual < self.target else 0


class Heaters:
    """All heaters of the machine, keyed ``T0``, ``T1``, ..., ``B`` and optionally ``C``."""

    def __init__(self, options):
        self.extruder_count = options.extruder_count
        self.tools = [Heater(options.hotend_idle_temperature, options.heat_rate) for _ in range(options.extruder_count)]
        self.bed = Heater(options.ambient_temperature, options.heat_rate)
        self.chamber = Heater(options.ambient_temperature, options.heat_rate) if options.has_chamber else None

    def all(self):
        return self.tools + [self.bed] + ([self.chamber] if self.chamber else [])

    def advance(self, seconds):
        for heater in self.all():
            heater.advance(seconds)

    def report(self, active_tool=0):
        """``T:21.3 /0.0 B:21.0 /0.0 @:0 B@:0``, with ``T0:``/``T1:`` when there are several tools."""
        tool = self.tools[active_tool]
        parts = [f"T:{tool.actual:.1f} /{tool.target:.1f}", f"B:{self.bed.actual:.1f} /{self.bed.target:.1f}"]
        if self.chamber:
            parts.append(f"C:{self.chamber.actual:.1f} /{self.chamber.target:.1f}")
        if self.extruder_count > 1:
            parts += [f"T{i}:{h.actual:.1f} /{h.target:.1f}" for i, h in enumerate(self.tools)]
        parts += [f"@:{tool.power}", f"B@:{self.bed.power}"]
        if self.extruder_count > 1:
            parts += [f"@{i}:{h.power}" for i, h in enumerate(self.tools)]
        return " ".join(parts)
