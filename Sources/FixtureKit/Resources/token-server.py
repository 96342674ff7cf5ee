#!/usr/bin/env python3
"""A local HTTPS token service for Pullwarden's tests: RFC 8693 token exchange, the Docker registry
token flow (GET /v2/ challenge + token endpoint), and a CONNECT proxy, with fault injection.

Python standard library plus the openssl CLI only. Everything listens on 127.0.0.1 and the process
stops by itself when its standard input closes (its parent went away) or after --lifetime seconds.

Start-up: generates a throw-away test CA, a server certificate for 127.0.0.1, ::1, localhost and the
test names (*.pullwarden.test, kubernetes.default.svc and its longer forms), an unrelated
"wrong" CA, and a client CA with a client certificate (mutual TLS), all in --dir, then prints one JSON
line to stdout with the URLs and file paths, and serves until stopped.

Servers:
  url       HTTPS, server certificate only (also on [::1] at the same port: url6)
  mtlsURL   HTTPS that requires a client certificate signed by the client CA
  proxyURL  plain-HTTP CONNECT proxy; tunnels only to loopback and to the test names, which it
            resolves itself to 127.0.0.1 (so a client that cannot resolve a name still gets through)
The test names resolve to 127.0.0.1 only where the tests bind-mount their own hosts file over /etc/hosts
(a private mount namespace); this server never touches the system's name resolution.

Endpoints (on url and mtlsURL), optionally behind a scenario prefix /s/<options>/:
  POST /token            RFC 8693 token exchange; answers access_token
                         "exchanged:<ns>/<sa>?<sorted audience,resource,scope,... as a query>"
  GET  /v2/              401 with WWW-Authenticate: Bearer realm="<same prefix>/registry-token",service="registry.test"
  GET  /registry-token   Docker token endpoint; needs Authorization Bearer <JWT> or Basic user:<JWT>;
                         answers token "registry:<ns>/<sa>?auth=...&scope=...&service=..."
  GET  /api/v1/namespaces/NS/serviceaccounts/NAME and /api/v1/namespaces/NS/secrets/NAME
                         a stand-in Kubernetes API server: serves <api>/namespaces/NS/<resource>/NAME.json
                         (objects in the real API's JSON shape) from the directory named by the api=
                         option; needs Authorization Bearer <JWT> whose audience includes the api-audience
                         option (default https://kubernetes.default.svc) and whose namespace is NS;
                         answers 401, 403 and 404 as Kubernetes Status objects
Scenario options (comma-separated name=value; faults apply to requests of the scenario's id):
  id=NAME         counter key (default: the whole option text)
  on=ENDPOINT     apply faults only to this endpoint (token, v2, registry-token)
  fail=N          only the first N matching requests get the fault (default: all)
  after=N         only requests after the first N matching ones get the fault (a working service that then fails)
  delay=SECONDS   sleep before answering
  barrier=N       hold each request until N requests of this id are waiting (500 after 10 s)
  status=CODE     answer with this status and an OAuth error body (error=CODE sets "error")
  retry-after=V   Retry-After value; "date+N" sends an HTTP-date N seconds ahead
  reset=1         drop the connection without answering
  body=KIND       malformed | huge | huge-chunked | no-token | echo-token | html | string-expiry
  expires-in=N    lifetime to report (default 3600 for exchange, 300 for registry); "none" omits it
  expect-audience=X   token exchange refuses another audience (400 invalid_target)
  token-field=F   registry token answer uses F (token or access_token)
  challenge=KIND  GET /v2/: none | basic | http (plain-HTTP realm) | ok (200, no challenge)
  api=DIR         (percent-encoded) folder the API server stand-in serves objects from (default:
                  <--dir>/api, for clients that cannot put a prefix in the server URL)
  api-audience=A  audience the API server stand-in accepts (default https://kubernetes.default.svc)
  forbid=R:N+...  API objects the token may not read (403), e.g. forbid=secrets:other+serviceaccounts:sa
  on=serviceaccounts|secrets   API faults apply to one resource (endpoint names for on= and barrier)
Every request is logged as one JSON line to <dir>/requests.log (subject tokens only as a SHA-256).
"""
import argparse
import base64
import email.utils
import hashlib
import http.server
import json
import os
import re
import select
import socket
import socketserver
import ssl
import subprocess
import sys
import threading
import time
import urllib.parse

LOCK = threading.Lock()
COUNTS = {}
WAITING = {}
BARRIER = threading.Condition()
LOG_PATH = None
API_ROOT = None
# Names the server certificate carries and the proxy tunnels to (always to 127.0.0.1).
TEST_NAMES = ["*.pullwarden.test", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
              "kubernetes.default.svc.cluster.local"]
API_PATH = re.compile(r"^/api/v1/namespaces/([^/]+)/(serviceaccounts|secrets)/([^/]+)$")


def openssl(args, cwd):
    result = subprocess.run(["openssl"] + args, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if result.returncode != 0:
        sys.stderr.write("token-server: openssl %s failed: %s\n" % (args[0], result.stderr.decode(errors="replace")))
        sys.exit(2)


def make_ca(d, name, subject):
    openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", name + ".key", "-out", name + ".pem", "-days", "2", "-subj", "/CN=" + subject,
             "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"], d)


def make_leaf(d, name, ca, subject, extensions):
    with open(os.path.join(d, name + ".ext"), "w") as f:
        f.write(extensions)
    openssl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", name + ".key",
             "-out", name + ".csr", "-subj", "/CN=" + subject], d)
    openssl(["x509", "-req", "-in", name + ".csr", "-CA", ca + ".pem", "-CAkey", ca + ".key", "-CAcreateserial",
             "-out", name + ".pem", "-days", "2", "-extfile", name + ".ext"], d)


def make_certificates(d):
    make_ca(d, "ca", "Pullwarden Test CA")
    make_ca(d, "wrong-ca", "Unrelated Test CA")
    make_ca(d, "client-ca", "Pullwarden Test Client CA")
    names = ",".join("DNS:" + name for name in TEST_NAMES)
    make_leaf(d, "server", "ca", "127.0.0.1",
              "subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost,%s\nextendedKeyUsage=serverAuth\n" % names)
    make_leaf(d, "client", "client-ca", "pullwarden-test-client", "extendedKeyUsage=clientAuth\n")
    for name in os.listdir(d):
        if name.endswith(".key"):
            os.chmod(os.path.join(d, name), 0o600)


def log(entry):
    with LOCK:
        with open(LOG_PATH, "a") as f:
            f.write(json.dumps(entry, sort_keys=True) + "\n")


def b64url_json(segment):
    padded = segment + "=" * (-len(segment) % 4)
    return json.loads(base64.urlsafe_b64decode(padded.encode()))


def jwt_identity(token):
    """(namespace/name, error) from a JWT's claims; error is None when usable."""
    parts = token.split(".")
    if len(parts) != 3:
        return None, "subject token is not a JWT"
    try:
        claims = b64url_json(parts[1])
    except Exception:
        return None, "subject token payload is not base64url JSON"
    if not isinstance(claims.get("exp"), (int, float)) or claims["exp"] <= time.time():
        return None, "subject token expired"
    k8s = claims.get("kubernetes.io") or {}
    sa = (k8s.get("serviceaccount") or {}).get("name")
    return "%s/%s" % (k8s.get("namespace"), sa), None


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "pullwarden-test-server"
    # Headers and body go out in separate writes; without this, Nagle's algorithm and the client's
    # delayed ACK add ~40 ms to every answer.
    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass

    def do_GET(self):
        self.dispatch()

    def do_POST(self):
        self.dispatch()

    # Answers

    def answer(self, status, body, headers=None, content_type="application/json"):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or []):
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def oauth_error(self, status, error, description, headers=None):
        self.answer(status, {"error": error, "error_description": description}, headers)

    # Dispatch

    def dispatch(self):
        parsed = urllib.parse.urlsplit(self.path)
        path = parsed.path
        options, option_text, prefix = {}, "", ""
        if path.startswith("/s/"):
            rest = path[3:]
            option_text, _, tail = rest.partition("/")
            prefix = "/s/" + option_text
            path = "/" + tail
            for item in urllib.parse.unquote(option_text).split(","):
                if item:
                    name, _, value = item.partition("=")
                    options[name] = value
        endpoint = {"/token": "token", "/v2/": "v2", "/v2": "v2", "/registry-token": "registry-token"}.get(path, path)
        api = API_PATH.match(path)
        if api:
            endpoint = api.group(2)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(min(length, 1 << 16)) if length else b""
        fields = urllib.parse.parse_qs(body.decode(errors="replace"), keep_blank_values=True) if body else {}
        fields = {k: v[0] for k, v in fields.items()}
        scenario = options.get("id", option_text)
        with LOCK:
            key = (scenario, endpoint)
            COUNTS[key] = COUNTS.get(key, 0) + 1
            count = COUNTS[key]
        logged = {k: ("sha256:" + hashlib.sha256(v.encode()).hexdigest() if k == "subject_token" else v) for k, v in fields.items()}
        authorization = (self.headers.get("Authorization") or "").split(" ")[0]
        log({"server": self.server.label, "method": self.command, "host": self.headers.get("Host"), "path": path, "query": parsed.query,
             "scenario": scenario, "endpoint": endpoint, "count": count, "fields": logged,
             "authorization": authorization, "time": time.time()})

        applies = ("on" not in options or options["on"] == endpoint) and \
            ("fail" not in options or count <= int(options["fail"])) and \
            ("after" not in options or count > int(options["after"]))
        if applies and self.fault(options, scenario, fields, kube=bool(api)):
            return
        if api:
            self.kube_api(options, api.group(1), api.group(2), api.group(3))
        elif endpoint == "token":
            self.token_exchange(options if applies else {k: v for k, v in options.items() if k in ("expires-in", "expect-audience")}, fields)
        elif endpoint == "v2":
            self.challenge(options if applies else {}, prefix)
        elif endpoint == "registry-token":
            self.registry_token(options, parsed.query)
        elif path == "/health":
            self.answer(200, {"ok": True})
        else:
            self.answer(404, {"error": "not_found", "error_description": "no such endpoint"})

    def fault(self, options, scenario, fields, kube=False):
        """Applies injected faults; True when the request has been answered (or dropped)."""
        if "delay" in options:
            time.sleep(float(options["delay"]))
        if "barrier" in options:
            wanted = int(options["barrier"])
            with BARRIER:
                WAITING[scenario] = WAITING.get(scenario, 0) + 1
                BARRIER.notify_all()
                reached = BARRIER.wait_for(lambda: WAITING[scenario] >= wanted, timeout=10)
            if not reached:
                self.oauth_error(500, "server_error", "barrier not reached: requests were not concurrent")
                return True
        if options.get("reset"):
            try:
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            except OSError:
                pass
            self.close_connection = True
            self.connection.close()
            return True
        if "status" in options:
            headers = []
            retry = options.get("retry-after")
            if retry:
                if retry.startswith("date+"):
                    retry = email.utils.formatdate(time.time() + float(retry[5:]), usegmt=True)
                headers.append(("Retry-After", retry))
            if kube:
                code = int(options["status"])
                self.kube_status(code, options.get("error", "InternalError"), "injected fault", headers=headers)
            else:
                self.oauth_error(int(options["status"]), options.get("error", "server_error"), "injected fault", headers)
            return True
        kind = options.get("body")
        if kind == "malformed":
            self.answer(200, b'{"access_token": "abc", "expires_in": ')
        elif kind == "huge":
            self.answer(200, b'{"pad": "' + b"x" * (2 << 20) + b'"}')
        elif kind == "huge-chunked":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            chunk = b"x" * 65536
            try:
                for _ in range(40):
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.write(b"0\r\n\r\n")
            except OSError:
                pass
            self.close_connection = True
        elif kind == "no-token":
            self.answer(200, {"token_type": "Bearer", "expires_in": 60})
        elif kind == "echo-token":
            echoed = fields.get("subject_token") or (self.headers.get("Authorization") or "")
            self.oauth_error(400, "invalid_request", "cannot use token " + echoed)
        elif kind == "html":
            self.answer(502, b"<html><body>Bad gateway</body></html>", content_type="text/html")
        else:
            return False
        return True

    def token_exchange(self, options, fields):
        if self.command != "POST":
            return self.oauth_error(405, "invalid_request", "use POST")
        if (self.headers.get("Content-Type") or "").split(";")[0] != "application/x-www-form-urlencoded":
            return self.oauth_error(400, "invalid_request", "expected a form body")
        if fields.get("grant_type") != "urn:ietf:params:oauth:grant-type:token-exchange":
            return self.oauth_error(400, "unsupported_grant_type", "expected token-exchange")
        if fields.get("subject_token_type") != "urn:ietf:params:oauth:token-type:jwt":
            return self.oauth_error(400, "invalid_request", "expected a JWT subject token")
        identity, error = jwt_identity(fields.get("subject_token", ""))
        if error:
            return self.oauth_error(400, "invalid_grant", error)
        expected = options.get("expect-audience")
        if expected and fields.get("audience") != expected:
            return self.oauth_error(400, "invalid_target", "audience not allowed")
        params = sorted((k, v) for k, v in fields.items()
                        if k in ("audience", "resource", "scope", "requested_token_type", "client_id"))
        answer = {"access_token": "exchanged:%s?%s" % (identity, urllib.parse.urlencode(params)),
                  "issued_token_type": "urn:ietf:params:oauth:token-type:access_token", "token_type": "Bearer"}
        lifetime = options.get("expires-in", "3600")
        if options.get("body") == "string-expiry":
            answer["expires_in"] = lifetime
        elif lifetime != "none":
            answer["expires_in"] = int(lifetime)
        self.answer(200, answer)

    def challenge(self, options, prefix):
        kind = options.get("challenge")
        if kind == "ok":
            return self.answer(200, {})
        # The realm names the host the client asked for, so a registry reached by name stays named.
        host = self.headers.get("Host") or "127.0.0.1:%d" % self.server.server_address[1]
        base = ("http://" if kind == "http" else "https://") + host
        headers = {
            None: [("WWW-Authenticate", 'Bearer realm="%s%s/registry-token",service="registry.test"' % (base, prefix))],
            "http": [("WWW-Authenticate", 'Bearer realm="%s%s/registry-token",service="registry.test"' % (base, prefix))],
            "basic": [("WWW-Authenticate", 'Basic realm="registry"')],
            "none": [],
        }[kind]
        self.answer(401, {"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]}, headers)

    def kube_status(self, code, reason, message, name=None, kind=None, headers=None):
        """An error answer exactly as the Kubernetes API server shapes it."""
        status = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
                  "reason": reason, "code": code}
        if name is not None:
            status["details"] = {"name": name, "kind": kind}
        self.answer(code, status, headers)

    def kube_api(self, options, namespace, resource, name):
        if self.command != "GET":
            return self.kube_status(405, "MethodNotAllowed", "the server does not allow this method on the requested resource")
        scheme, _, token = (self.headers.get("Authorization") or "").partition(" ")
        if scheme != "Bearer" or not token:
            return self.kube_status(401, "Unauthorized", "Unauthorized")
        parts = token.split(".")
        try:
            claims = b64url_json(parts[1]) if len(parts) == 3 else None
        except Exception:
            claims = None
        audience = options.get("api-audience", "https://kubernetes.default.svc")
        audiences = (claims or {}).get("aud") or []
        audiences = [audiences] if isinstance(audiences, str) else audiences
        if not claims or not isinstance(claims.get("exp"), (int, float)) or claims["exp"] <= time.time() \
                or audience not in audiences:
            return self.kube_status(401, "Unauthorized", "Unauthorized")
        k8s = claims.get("kubernetes.io") or {}
        user_namespace = k8s.get("namespace")
        user = "system:serviceaccount:%s:%s" % (user_namespace, (k8s.get("serviceaccount") or {}).get("name"))
        forbidden = {tuple(item.split(":", 1)) for item in options.get("forbid", "").split("+") if ":" in item}
        if user_namespace != namespace or (resource, name) in forbidden:
            message = ('%s "%s" is forbidden: User "%s" cannot get resource "%s" in API group "" in the namespace "%s"'
                       % (resource, name, user, resource, namespace))
            return self.kube_status(403, "Forbidden", message, name, resource)
        root = options.get("api") or API_ROOT
        path = os.path.join(root, "namespaces", namespace, resource, name + ".json")
        if not path or not os.path.isfile(path):
            return self.kube_status(404, "NotFound", '%s "%s" not found' % (resource, name), name, resource)
        with open(path, "rb") as f:
            self.answer(200, f.read())

    def registry_token(self, options, query):
        authorization = self.headers.get("Authorization") or ""
        scheme, _, credentials = authorization.partition(" ")
        method = None
        if scheme == "Bearer":
            token, method = credentials, "bearer"
        elif scheme == "Basic":
            try:
                user, _, token = base64.b64decode(credentials).decode().partition(":")
                method = "basic:" + user
            except Exception:
                token = ""
        if not method:
            return self.answer(401, {"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]},
                               [("WWW-Authenticate", 'Bearer realm="token"')])
        identity, error = jwt_identity(token)
        if error:
            return self.answer(401, {"errors": [{"code": "UNAUTHORIZED", "message": error}]})
        params = sorted(urllib.parse.parse_qsl(query, keep_blank_values=True)) + [("auth", method)]
        answer = {options.get("token-field", "token"): "registry:%s?%s" % (identity, urllib.parse.urlencode(sorted(params))),
                  "issued_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        lifetime = options.get("expires-in", "300")
        if lifetime != "none":
            answer["expires_in"] = int(lifetime)
        self.answer(200, answer)


class TLSServer(http.server.ThreadingHTTPServer):
    """Does each TLS handshake in the request's own thread, so a stalled client blocks no one."""
    daemon_threads = True

    def __init__(self, label, context, address=("127.0.0.1", 0)):
        self.label = label
        self.context = context
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, Handler)

    def handle_error(self, request, client_address):
        # Clients that hang up mid-answer (body limits, timeouts) are expected; note, don't print.
        log({"server": self.label, "handler_error": str(sys.exc_info()[0].__name__), "time": time.time()})

    def finish_request(self, request, client_address):
        try:
            request.settimeout(30)
            tls = self.context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as error:
            log({"server": self.label, "tls_error": str(error.__class__.__name__), "time": time.time()})
            return
        try:
            self.RequestHandlerClass(tls, client_address, self)
        finally:
            try:
                tls.close()
            except OSError:
                pass


class ProxyHandler(socketserver.BaseRequestHandler):
    def handle(self):
        data = b""
        while b"\r\n\r\n" not in data and len(data) < 65536:
            chunk = self.request.recv(4096)
            if not chunk:
                return
            data += chunk
        line = data.split(b"\r\n")[0].decode(errors="replace").split(" ")
        if len(line) < 2 or line[0] != "CONNECT":
            self.request.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
            return
        host, _, port = line[1].rpartition(":")
        log({"server": "proxy", "connect": line[1], "time": time.time()})
        if not proxy_may_reach(host):
            self.request.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
            return
        upstream = socket.create_connection(("127.0.0.1", int(port)), timeout=30)
        self.request.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        sockets = [self.request, upstream]
        try:
            while True:
                readable, _, _ = select.select(sockets, [], [], 30)
                if not readable:
                    return
                for s in readable:
                    chunk = s.recv(65536)
                    if not chunk:
                        return
                    (upstream if s is self.request else self.request).sendall(chunk)
        finally:
            upstream.close()


def proxy_may_reach(host):
    """Loopback and the test names only: the proxy never opens a connection off this machine."""
    if host in ("127.0.0.1", "localhost", "[::1]"):
        return True
    for name in TEST_NAMES:
        if name.startswith("*."):
            label, _, rest = host.partition(".")
            if label and rest == name[2:]:
                return True
        elif host == name:
            return True
    return False


class ProxyServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        log({"server": "proxy", "handler_error": str(sys.exc_info()[0].__name__), "time": time.time()})


def listen_on_both_loopbacks(context):
    """The main server on 127.0.0.1 and on ::1 with one port number (an in-cluster service address is
    one host and one port, and the tests give it both as a name and as an IPv6 literal)."""
    for _ in range(50):
        v4 = TLSServer("main", context)
        try:
            return v4, TLSServer("main6", context, ("::1", v4.server_address[1]))
        except OSError:
            v4.server_close()
    raise SystemExit("token-server: no port free on both 127.0.0.1 and ::1")


def serve(server):
    threading.Thread(target=server.serve_forever, daemon=True).start()


def main():
    global LOG_PATH, API_ROOT
    parser = argparse.ArgumentParser(description="Pullwarden's local HTTPS test token service")
    parser.add_argument("--dir", required=True, help="folder for certificates and the request log")
    parser.add_argument("--lifetime", type=float, default=1800, help="exit after this many seconds")
    args = parser.parse_args()
    d = os.path.abspath(args.dir)
    os.makedirs(d, exist_ok=True)
    LOG_PATH = os.path.join(d, "requests.log")
    API_ROOT = os.path.join(d, "api")
    os.makedirs(API_ROOT, exist_ok=True)
    open(LOG_PATH, "w").close()
    make_certificates(d)

    plain = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    plain.load_cert_chain(os.path.join(d, "server.pem"), os.path.join(d, "server.key"))
    mutual = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    mutual.load_cert_chain(os.path.join(d, "server.pem"), os.path.join(d, "server.key"))
    mutual.verify_mode = ssl.CERT_REQUIRED
    mutual.load_verify_locations(os.path.join(d, "client-ca.pem"))

    main_server, main6_server = listen_on_both_loopbacks(plain)
    mtls_server = TLSServer("mtls", mutual)
    proxy = ProxyServer(("127.0.0.1", 0), ProxyHandler)
    for server in (main_server, main6_server, mtls_server, proxy):
        serve(server)

    print(json.dumps({
        "url": "https://127.0.0.1:%d" % main_server.server_address[1],
        "url6": "https://[::1]:%d" % main6_server.server_address[1],
        "mtlsURL": "https://127.0.0.1:%d" % mtls_server.server_address[1],
        "proxyURL": "http://127.0.0.1:%d" % proxy.server_address[1],
        "caFile": os.path.join(d, "ca.pem"),
        "wrongCAFile": os.path.join(d, "wrong-ca.pem"),
        "clientCertFile": os.path.join(d, "client.pem"),
        "clientKeyFile": os.path.join(d, "client.key"),
        "log": LOG_PATH,
    }), flush=True)

    # Stop when the parent closes our stdin (or dies), or when the lifetime is up.
    threading.Timer(args.lifetime, lambda: os._exit(0)).start()
    while sys.stdin.buffer.read(4096):
        pass
    os._exit(0)


if __name__ == "__main__":
    main()
