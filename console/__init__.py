"""The console: the web app of Clearframe's people, served by the API at /console.

It holds no rule of its own. Its pages are static files (HTML shell, ES modules, CSS) that
call the same JSON API as every other client, signed in with a browser session
(core/browser_sessions.py) instead of a bearer token; the server's only part here is signing
in and out, the role check on each page, and the security headers.
"""
