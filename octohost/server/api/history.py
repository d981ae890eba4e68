"""``/api/history``: the print history (one row per job, newest first) and its totals.

Reading it needs FILES_LIST: the rows name files and who printed them, which is what the file
list (with its per-file print statistics) already shows to the same users; STATUS alone only
reveals the job at hand. Paging with ``limit`` (1 to 1000, default 50) and ``offset``.
"""

from flask import Blueprint, jsonify

from .util import ApiError, after_job_writes, ctx, query_int, requires

blueprint = Blueprint("history", __name__)

DEFAULT_LIMIT = 50
MAX_LIMIT = 1000


def _history():
    history = getattr(ctx().printer, "history", None)
    if history is None:
        raise ApiError(404, "This printer keeps no print history")
    return history


@blueprint.route("/api/history")
@requires("FILES_LIST")
def list_jobs():
    limit = query_int("limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    offset = query_int("offset", 0, 0, 2**31)
    history = _history()
    jobs = after_job_writes(ctx().printer, lambda: history.list(limit, offset))
    return jsonify({"jobs": jobs, "stats": history.stats(), "limit": limit, "offset": offset})


@blueprint.route("/api/history/<int:job_id>")
@requires("FILES_LIST")
def get_job(job_id):
    job = _history().get(job_id)
    if job is None:
        raise ApiError(404, f"No print job with id {job_id}")
    return jsonify(job)
