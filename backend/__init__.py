import os

# Piccolo finds its configuration through this variable; the app always uses its own.
os.environ.setdefault("PICCOLO_CONF", "backend.piccolo_conf")
