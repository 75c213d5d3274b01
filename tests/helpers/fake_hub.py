"""A loopback server that answers like the Hugging Face hub for the few routes its client uses (repo info, tree,
resolve), serving local folders as repositories. Tests point `HF_ENDPOINT` at it; it stops when its block ends."""
import hashlib
import json
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlparse

COMMIT = "0123456789abcdef0123456789abcdef01234567"


def repo_files(folder: Path) -> dict[str, Path]:
    return {p.relative_to(folder).as_posix(): p for p in sorted(folder.rglob("*")) if p.is_file()}


class HubHandler(BaseHTTPRequestHandler):
    repos: dict[str, Path] = {}
    requests: list[str] = []

    def log_message(self, *args):  # quiet
        pass

    def do_HEAD(self):
        self.answer(body=False)

    def do_GET(self):
        self.answer(body=True)

    def answer(self, body: bool):
        path = unquote(urlparse(self.path).path)
        self.requests.append(f"{self.command} {path}")
        parts = path.strip("/").split("/")
        if parts[:2] == ["api", "models"] and len(parts) >= 5:
            self.api(f"{parts[2]}/{parts[3]}", parts[4], body)
        elif len(parts) >= 5 and parts[2] == "resolve":
            self.resolve(f"{parts[0]}/{parts[1]}", "/".join(parts[4:]), body)
        else:
            self.send(404, b"", {"X-Error-Code": "RepoNotFound"}, body)

    def api(self, repo: str, what: str, body: bool):
        if repo not in self.repos:
            return self.send(404, b'{"error": "Repository not found"}', {"X-Error-Code": "RepoNotFound"}, body)
        files = repo_files(self.repos[repo])
        if what == "revision":
            info = {"id": repo, "modelId": repo, "sha": COMMIT, "siblings": [{"rfilename": f} for f in files]}
        else:  # tree
            info = [{"type": "file", "path": f, "size": p.stat().st_size, "oid": digest(p, "sha1")}
                    for f, p in files.items()]
        self.send(200, json.dumps(info).encode(), {"Content-Type": "application/json"}, body)

    def resolve(self, repo: str, filename: str, body: bool):
        file = repo_files(self.repos[repo]).get(filename) if repo in self.repos else None
        if file is None:
            code = "EntryNotFound" if repo in self.repos else "RepoNotFound"
            return self.send(404, b"", {"X-Error-Code": code, "X-Repo-Commit": COMMIT}, body)
        data = file.read_bytes()
        self.send(200, data, {"X-Repo-Commit": COMMIT, "ETag": f'"{digest(file, "sha256")}"'}, body)

    def send(self, status: int, data: bytes, headers: dict, body: bool):
        self.send_response(status)
        for k, v in {**headers, "Content-Length": str(len(data))}.items():
            self.send_header(k, v)
        self.end_headers()
        if body:
            self.wfile.write(data)


def digest(path: Path, kind: str) -> str:
    return hashlib.new(kind, path.read_bytes()).hexdigest()


@contextmanager
def fake_hub(repos: dict[str, Path]):
    """`(endpoint URL, list of requests seen)` while the block runs; the server stops when it ends."""
    handler = type("Handler", (HubHandler,), {"repos": dict(repos), "requests": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", handler.requests
    finally:
        server.shutdown()
        server.server_close()


def point_hub(monkeypatch, cache: Path, endpoint: str | None = None, offline: bool = False):
    """This process's huggingface_hub client pointed at `cache` and `endpoint` (it reads HF_HUB_CACHE, HF_ENDPOINT
    and HF_HUB_OFFLINE once, when imported: a test process sets its constants instead)."""
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", offline)
    if endpoint:
        monkeypatch.setattr(constants, "ENDPOINT", endpoint)
        monkeypatch.setattr(constants, "HUGGINGFACE_CO_URL_TEMPLATE", endpoint + "/{repo_id}/resolve/{revision}/{filename}")


@contextmanager
def serve_files(folder: Path):
    """A plain loopback file server for `folder` (what torch hub downloads from): its base URL while the block runs."""
    from functools import partial
    from http.server import SimpleHTTPRequestHandler

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
