// Who is logged in and what they may do, in OctoPrint's permission vocabulary.

// A permission like "CONTROL" is granted by the user's permission list or the roles in "needs".
export function can(user, permission) {
  if (!user || !user.name) return false;
  const wanted = permission.toUpperCase();
  if (wanted === "ADMIN") return isAdmin(user);
  if (isAdmin(user)) return true;
  const permissions = (user.permissions || []).map((p) => (typeof p === "string" ? p : p.key || "").toUpperCase());
  if (permissions.includes(wanted) || permissions.includes("ADMIN")) return true;
  const roles = ((user.needs && user.needs.role) || []).map((r) => r.toUpperCase());
  return roles.includes(wanted) || roles.includes("ADMIN");
}

export function isAdmin(user) {
  if (!user || !user.name) return false;
  if (user.admin === true) return true;
  const groups = (user.groups || []).map((g) => (typeof g === "string" ? g : g.key));
  if (groups.includes("admins")) return true;
  const roles = (user.needs && user.needs.role) || [];
  const permissions = (user.permissions || []).map((p) => (typeof p === "string" ? p : p.key || "").toUpperCase());
  return roles.includes("admin") || permissions.includes("ADMIN");
}
