"""A minimal Hugging Face Hub on 127.0.0.1 for testing uploads end to end, with the routes huggingface_hub
calls to create a dataset repo, commit regular and LFS files, and download them again:

POST /api/repos/create, POST /api/validate-yaml, POST /api/datasets/<repo>/preupload/<rev>,
POST /datasets/<repo>.git/info/lfs/objects/batch, PUT /lfs/<oid>, POST /api/datasets/<repo>/commit/<rev> (added,
LFS and deleted files), PUT /api/datasets/<repo>/settings (visibility), GET /api/datasets/<repo>/tree/<rev>[/<dir>],
GET /api/datasets/<repo>[/revision/<rev>], HEAD|GET /datasets/<repo>/resolve/<rev>/<path>.
Writes need ``Authorization: Bearer <token>``. ``refuse`` makes a route answer an error status instead.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
from urllib.parse import unquote
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeHub:
    def __init__(self, token: str, lifetime: float = 120.0):
        self.token = token
        self.lifetime = lifetime  # the server stops by itself after this many seconds, even if a test hangs
        self.repos: dict[str, dict[str, bytes]] = {}
        self.shas: dict[str, str] = {}
        self.blobs: dict[str, bytes] = {}
        self.requests: list[str] = []
        # per repo, whether it is private: as the create request asked (True, False, or None when the request said
        # nothing; huggingface_hub sends "private" or, since 1.x, "visibility"), then as a settings request set it
        self.private: dict[str, bool | None] = {}
        # "METHOD /path" -> (status, message): that request is refused, as the Hub refuses a token without write
        # access (403) or a bad one (401)
        self.refuse: dict[str, tuple[int, str]] = {}
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output clean
                pass

            def do_POST(self):
                hub._handle(self, "POST")

            def do_PUT(self):
                hub._handle(self, "PUT")

            def do_GET(self):
                hub._handle(self, "GET")

            def do_HEAD(self):
                hub._handle(self, "HEAD")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def add_repo(self, repo: str, *, private: bool) -> None:
        """A dataset repo that exists before the test publishes to it (no files yet)."""
        self.repos[repo] = {}
        self.shas[repo] = "0" * 40
        self.private[repo] = private

    def __enter__(self):
        self.thread.start()
        self.timer = threading.Timer(self.lifetime, self.server.shutdown)
        self.timer.daemon = True
        self.timer.start()
        return self

    def __exit__(self, *exc):
        self.timer.cancel()
        self.server.shutdown()
        self.server.server_close()

    # ------------------------------------------------------------------ routing

    def _handle(self, h: BaseHTTPRequestHandler, method: str) -> None:
        path, _, query = h.path.partition("?")
        h.query = query  # type: ignore[attr-defined]
        self.requests.append(f"{method} {path}")
        body = h.rfile.read(int(h.headers.get("Content-Length") or 0)) if method in ("POST", "PUT") else b""
        if f"{method} {path}" in self.refuse:
            status, message = self.refuse[f"{method} {path}"]
            return self._send(h, status, {"error": message})
        if method == "PUT" and path.startswith("/lfs/"):  # pre-signed upload URL, as the Hub hands out for LFS
            if query != f"sig={self._sign(path.rsplit('/', 1)[-1])}":  # objects: no bearer token
                return self._send(h, 403, {"error": "bad signature"})
        elif method in ("POST", "PUT") and h.headers.get("Authorization") != f"Bearer {self.token}":
            return self._send(h, 401, {"error": "Invalid credentials"})
        routes = [
            ("POST", r"/api/repos/create", self._create),
            ("POST", r"/api/validate-yaml", lambda h, b: self._send(h, 200, {"errors": [], "warnings": []})),
            ("POST", r"/api/datasets/(?P<repo>[^/]+/[^/]+)/preupload/(?P<rev>[^/]+)", self._preupload),
            ("POST", r"/datasets/(?P<repo>[^/]+/[^/]+)\.git/info/lfs/objects/batch", self._lfs_batch),
            ("PUT", r"/lfs/(?P<oid>[0-9a-f]{64})", self._lfs_put),
            ("POST", r"/api/datasets/(?P<repo>[^/]+/[^/]+)/commit/(?P<rev>[^/]+)", self._commit),
            ("PUT", r"/api/datasets/(?P<repo>[^/]+/[^/]+)/settings", self._settings),
            ("GET", r"/api/datasets/(?P<repo>[^/]+/[^/]+)/tree/(?P<rev>[^/]+)(?:/(?P<dir>.*))?", self._tree),
            ("GET", r"/api/datasets/(?P<repo>[^/]+/[^/]+)(?:/revision/(?P<rev>[^/]+))?", self._info),
            ("GET", r"/datasets/(?P<repo>[^/]+/[^/]+)/resolve/(?P<rev>[^/]+)/(?P<file>.+)", self._resolve),
            ("HEAD", r"/datasets/(?P<repo>[^/]+/[^/]+)/resolve/(?P<rev>[^/]+)/(?P<file>.+)", self._resolve),
        ]
        for verb, pattern, handler in routes:
            m = re.fullmatch(pattern, path)
            if verb == method and m:
                h.match = m  # type: ignore[attr-defined]
                return handler(h, body)
        self._send(h, 404, {"error": f"no route {method} {path}"})

    def _send(self, h, status, payload=None, headers=None, raw: bytes | None = None, method="GET"):
        data = raw if raw is not None else json.dumps(payload).encode()
        h.send_response(status)
        h.send_header("Content-Type", "application/json" if raw is None else "application/octet-stream")
        h.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.end_headers()
        if h.command != "HEAD":
            h.wfile.write(data)

    # ------------------------------------------------------------------ handlers

    def _create(self, h, body):
        req = json.loads(body)
        repo = f"{req.get('organization') or 'user'}/{req['name']}"
        if repo in self.repos:
            return self._send(h, 409, {"error": "You already created this dataset repo", "url": f"{self.url}/datasets/{repo}"})
        self.repos[repo] = {}
        self.shas[repo] = "0" * 40
        if "visibility" in req:
            self.private[repo] = req["visibility"] == "private"
        else:
            self.private[repo] = req.get("private")
        self._send(h, 200, {"url": f"{self.url}/datasets/{repo}", "name": repo})

    def _settings(self, h, body):
        # update_repo_settings sends {"visibility": "private"|"public"} (1.x and later) or {"private": bool}
        repo, req = h.match["repo"], json.loads(body)
        if repo not in self.repos:
            return self._send(h, 404, {"error": "Repository not found"}, {"X-Error-Code": "RepoNotFound"})
        if "visibility" in req:
            self.private[repo] = req["visibility"] == "private"
        elif "private" in req:
            self.private[repo] = bool(req["private"])
        self._send(h, 200, {})

    def _preupload(self, h, body):
        files = json.loads(body)["files"]
        self._send(h, 200, {"files": [{"path": f["path"], "shouldIgnore": False,
                                       "uploadMode": "lfs" if f["path"].endswith(".parquet") else "regular"}
                                      for f in files]})

    def _lfs_batch(self, h, body):
        objects = json.loads(body)["objects"]
        self._send(h, 200, {"transfer": "basic", "objects": [
            {"oid": o["oid"], "size": o["size"], "authenticated": True,
             "actions": {"upload": {"href": f"{self.url}/lfs/{o['oid']}?sig={self._sign(o['oid'])}", "header": {}}}}
            for o in objects]})

    def _sign(self, oid: str) -> str:
        return hashlib.sha256(f"{self.token}:{oid}".encode()).hexdigest()[:16]

    def _lfs_put(self, h, body):
        oid = h.match["oid"]
        if hashlib.sha256(body).hexdigest() != oid:
            return self._send(h, 400, {"error": "sha256 mismatch"})
        self.blobs[oid] = body
        self._send(h, 200, {})

    def _commit(self, h, body):
        repo = h.match["repo"]
        files = self.repos.setdefault(repo, {})
        for line in body.decode().splitlines():
            item = json.loads(line)
            value = item["value"]
            if item["key"] == "file":
                files[value["path"]] = base64.b64decode(value["content"])
            elif item["key"] == "lfsFile":
                files[value["path"]] = self.blobs[value["oid"]]
            elif item["key"] == "deletedFile":  # upload_folder(delete_patterns=...)
                del files[value["path"]]
        sha = hashlib.sha1(json.dumps(sorted((p, hashlib.sha256(d).hexdigest()) for p, d in files.items())).encode()).hexdigest()
        self.shas[repo] = sha
        self._send(h, 200, {"commitUrl": f"{self.url}/datasets/{repo}/commit/{sha}", "commitOid": sha,
                            "pullRequestUrl": None})

    def _info(self, h, body):
        repo = h.match["repo"]
        if repo not in self.repos:
            return self._send(h, 404, {"error": "Repository not found"}, {"X-Error-Code": "RepoNotFound"})
        self._send(h, 200, {"id": repo, "_id": repo, "sha": self.shas[repo], "private": bool(self.private.get(repo)), "disabled": False,
                            "downloads": 0, "likes": 0, "tags": [], "lastModified": "2026-11-22T00:00:00.000Z",
                            "siblings": [{"rfilename": p} for p in sorted(self.repos[repo])]})

    def _tree(self, h, body):
        # HfFileSystem asks for one folder at a time (path URL-quoted, "data%2Fen-zh") unless recursive=true
        repo, prefix = h.match["repo"], unquote(h.match["dir"] or "").strip("/")
        recursive = "recursive=true" in h.query.lower()
        entries, dirs = [], set()
        for name, data in sorted(self.repos.get(repo, {}).items()):
            if prefix and not name.startswith(prefix + "/"):
                continue
            rest = name[len(prefix) + 1 if prefix else 0:].split("/")
            base = f"{prefix}/" if prefix else ""
            dirs |= {base + "/".join(rest[:k]) for k in range(1, len(rest) if recursive else min(2, len(rest)))}
            if len(rest) > 1 and not recursive:
                continue
            entry = {"type": "file", "path": name, "size": len(data), "oid": hashlib.sha1(data).hexdigest()}
            if name.endswith(".parquet"):
                entry["lfs"] = {"oid": hashlib.sha256(data).hexdigest(), "size": len(data), "pointerSize": 134}
            entries.append(entry)
        entries += [{"type": "directory", "path": d, "size": 0, "oid": "0" * 40} for d in sorted(dirs)]
        self._send(h, 200, entries)

    def _resolve(self, h, body):
        repo, name = h.match["repo"], h.match["file"]
        data = self.repos.get(repo, {}).get(name)
        if data is None:
            return self._send(h, 404, {"error": "Entry not found"}, {"X-Error-Code": "EntryNotFound"})
        etag = hashlib.sha256(data).hexdigest()
        headers = {"X-Repo-Commit": self.shas[repo], "ETag": f'"{etag}"'}
        if name.endswith(".parquet"):
            headers |= {"X-Linked-Etag": f'"{etag}"', "X-Linked-Size": str(len(data))}
        self._send(h, 200, headers=headers, raw=data)
