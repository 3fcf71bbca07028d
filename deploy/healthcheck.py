"""Container health probe (stdlib only): GET /healthz, or the path given, on this container's service.

The port is found from the running `hazardloop serve <service> [--port N]` process: its
--port, else HAZARDLOOP_<SERVICE>_PORT, else the service's default port.
Usage: python healthcheck.py [/healthz|/readyz]
"""

import os
import sys
import urllib.request

DEFAULT_PORTS = {"console": 8100, "intake": 8101, "verification": 8102, "rewards": 8103, "notifications": 8104}


def served_port() -> int:
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                args = handle.read().decode(errors="replace").split("\0")
        except OSError:
            continue
        if "serve" not in args or args.index("serve") + 1 >= len(args):
            continue
        service = args[args.index("serve") + 1]
        if service not in DEFAULT_PORTS:
            continue
        for i, arg in enumerate(args):
            if arg == "--port" and i + 1 < len(args):
                return int(args[i + 1])
            if arg.startswith("--port="):
                return int(arg.split("=", 1)[1])
        return int(os.environ.get(f"HAZARDLOOP_{service.upper()}_PORT", DEFAULT_PORTS[service]))
    raise SystemExit("no `hazardloop serve <service>` process found")


def main() -> int:
    path = sys.argv[1] if len(sys.argv) > 1 else "/healthz"
    url = f"http://127.0.0.1:{served_port()}{path}"
    try:
        with urllib.request.urlopen(url, timeout=3) as response:  # noqa: S310 - fixed loopback URL
            return 0 if response.status == 200 else 1
    except OSError as exc:  # URLError and HTTPError (e.g. 503 from /readyz) are OSErrors
        print(f"{url}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
