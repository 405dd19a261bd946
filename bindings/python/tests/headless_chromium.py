"""Opens a page in headless Chromium (Debian's `chromium`) over the DevTools
protocol and reports what a reader would see go wrong: images that did not
load, SVG figures that did not render, console errors, uncaught exceptions
and failed loads. Also saves a screenshot. Used by test_study.py."""

import base64
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.request

import websocket  # websocket-client, installed by scripts/setup


def chromium_path():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


CHECK_FIGURES = """(() => {
  const imgs = [...document.images].map(i => ({src: i.src.slice(0, 40), ok: i.complete && i.naturalWidth > 0}));
  const svgs = [...document.querySelectorAll('svg.plot')].map(s => {
    const b = s.getBoundingClientRect(); return {ok: b.width > 0 && b.height > 0 && s.querySelectorAll('*').length > 5};
  });
  return JSON.stringify({images: imgs, svgs: svgs, height: document.documentElement.scrollHeight});
})()"""


def inspect_page(path, screenshot, width=1200, timeout=60):
    """Loads file `path`; returns dict(images, svgs, errors); writes a PNG screenshot."""
    browser = chromium_path()
    if browser is None:
        raise RuntimeError("chromium is not installed (scripts/setup installs it)")
    profile = tempfile.mkdtemp(prefix="rwcnn-chromium-")
    # The browser is not under test: under `scripts/test --sanitize` the
    # sanitizer runtime preloaded into pytest must not reach it (chromium
    # does not start with ASan preloaded).
    env = {k: v for k, v in os.environ.items()
           if k not in ("LD_PRELOAD", "ASAN_OPTIONS", "UBSAN_OPTIONS", "TSAN_OPTIONS")}
    proc = subprocess.Popen([browser, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                             "--disable-extensions", "--remote-debugging-port=0", "--user-data-dir=" + profile,
                             "about:blank"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        port_file = os.path.join(profile, "DevToolsActivePort")
        deadline = time.time() + timeout
        while not os.path.exists(port_file) or not open(port_file).read().strip():
            if time.time() > deadline or proc.poll() is not None:
                raise RuntimeError("chromium did not start its DevTools endpoint")
            time.sleep(0.1)
        port = int(open(port_file).read().split()[0])
        targets = json.load(urllib.request.urlopen("http://127.0.0.1:%d/json/list" % port))
        page = next(t for t in targets if t.get("type") == "page")
        ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=timeout)
        ids = iter(range(1, 10 ** 6))
        errors, answers, events = [], {}, []

        def pump(until):
            while not until():
                msg = json.loads(ws.recv())
                if "id" in msg:
                    answers[msg["id"]] = msg
                    continue
                events.append(msg["method"])
                p = msg.get("params", {})
                if msg["method"] == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                    errors.append("console: " + " ".join(str(a.get("value", a.get("description"))) for a in p["args"]))
                elif msg["method"] == "Runtime.exceptionThrown":
                    errors.append("exception: " + p["exceptionDetails"].get("text", ""))
                elif msg["method"] == "Log.entryAdded" and p["entry"]["level"] == "error":
                    errors.append("log: " + p["entry"].get("text", ""))
                elif msg["method"] == "Network.loadingFailed":
                    errors.append("load failed: " + p.get("errorText", ""))

        def call(method, **params):
            i = next(ids)
            ws.send(json.dumps({"id": i, "method": method, "params": params}))
            pump(lambda: i in answers)
            if "error" in answers[i]:
                raise RuntimeError("%s: %s" % (method, answers[i]["error"]))
            return answers[i].get("result", {})

        for domain in ("Page", "Runtime", "Log", "Network"):
            call(domain + ".enable")
        call("Emulation.setDeviceMetricsOverride", width=width, height=900, deviceScaleFactor=1, mobile=False)
        call("Page.navigate", url="file://" + os.path.abspath(path))
        pump(lambda: "Page.loadEventFired" in events)
        result = json.loads(call("Runtime.evaluate", expression=CHECK_FIGURES, returnByValue=True)["result"]["value"])
        height = min(int(result["height"]), 16000)
        call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=False)
        shot = call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        with open(screenshot, "wb") as f:
            f.write(base64.b64decode(shot["data"]))
        time.sleep(0.2)
        ws.close()
        result["errors"] = errors
        return result
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(profile, ignore_errors=True)
