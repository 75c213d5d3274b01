"""The demo as a person sees it: `fashionseg demo RUN` on loopback, opened in headless Chromium (Debian's
`chromium` package), an image uploaded and Predict pressed through the DevTools protocol, then a screenshot
of the page. Not a CI test: its PNG and the command go into docs/sharing.md.

    .venv/bin/python bench/demo_screenshot.py runs/facade-fast-<stamp> IMAGE --out docs/img/demo.png
"""
from __future__ import annotations

import argparse
import base64
import itertools
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

IDS = itertools.count(1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, timeout: float, proc: subprocess.Popen) -> None:
    """Until `url` answers (the demo imports torch and fastai first)."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if proc.poll() is not None:
            sys.exit(f"{proc.args[0]} stopped with code {proc.returncode}")
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            time.sleep(0.5)
    sys.exit(f"{url} did not answer within {timeout:.0f} s")


def call(ws, method: str, **params) -> dict:
    """One DevTools command and its result (events in between are skipped)."""
    msg_id = next(IDS)
    ws.send(json.dumps({"id": msg_id, "method": method, "params": params}))
    while True:
        answer = json.loads(ws.recv())
        if answer.get("id") == msg_id:
            if "error" in answer:
                sys.exit(f"{method}: {answer['error']}")
            return answer.get("result", {})


def evaluate(ws, expression: str):
    return call(ws, "Runtime.evaluate", expression=expression, returnByValue=True)["result"].get("value")


def screenshot(demo_url: str, image: Path, out: Path, chromium: str, wait: float) -> None:
    """Upload `image` in the demo page, press Predict, wait for the answer and save the page as `out`."""
    from websockets.sync.client import connect

    port = free_port()
    profile = tempfile.mkdtemp(prefix="chromium-")
    browser = subprocess.Popen([chromium, "--headless=new", "--no-sandbox", f"--remote-debugging-port={port}",
                                f"--user-data-dir={profile}", "--window-size=1280,900", "about:blank"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(f"http://127.0.0.1:{port}/json/version", 30, browser)
        page = next(t for t in json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json"))
                    if t["type"] == "page")
        with connect(page["webSocketDebuggerUrl"], max_size=None) as ws:
            call(ws, "Page.enable")
            call(ws, "Page.navigate", url=demo_url)
            time.sleep(wait)
            root = call(ws, "DOM.getDocument", depth=-1, pierce=True)["root"]["nodeId"]
            node = call(ws, "DOM.querySelector", nodeId=root, selector="input[type=file]")["nodeId"]
            call(ws, "DOM.setFileInputFiles", nodeId=node, files=[str(image.resolve())])
            time.sleep(wait)
            evaluate(ws, "[...document.querySelectorAll('button')].find(b => b.innerText.trim() === 'Predict')"
                         ".click()")
            time.sleep(wait)
            data = call(ws, "Page.captureScreenshot", format="png", captureBeyondViewport=True)["data"]
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(base64.b64decode(data))
    finally:
        browser.terminate()
        browser.wait(timeout=30)
        shutil.rmtree(profile, ignore_errors=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", help="run folder, model folder or hf-hub:ORG/NAME")
    parser.add_argument("image", type=Path, help="the image to upload")
    parser.add_argument("--out", type=Path, default=Path("demo.png"), help="the screenshot (default: demo.png)")
    parser.add_argument("--chromium", default=shutil.which("chromium") or "chromium", help="Chromium's executable")
    parser.add_argument("--wait", type=float, default=5.0, help="seconds to let the page react after each step")
    args = parser.parse_args(argv)
    port = free_port()
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False"}
    command = [sys.executable, "-m", "fashionseg", "demo", args.run, "--port", str(port)]
    demo = subprocess.Popen(command, env=env)
    try:
        url = f"http://127.0.0.1:{port}/"
        wait_for(url, 180, demo)
        screenshot(url, args.image, args.out, args.chromium, args.wait)
    finally:
        demo.terminate()
        demo.wait(timeout=30)
    print(f"{' '.join(command)}\nscreenshot: {args.out}")


if __name__ == "__main__":
    main()
