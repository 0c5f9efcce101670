"""The admin page (Settings -> API keys) in real headless Chromium, against `keyguard demo`."""
