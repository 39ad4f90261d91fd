"""Stop before anything is downloaded when this Python cannot run the course.

    python3.13 scripts/check_python.py

``make`` runs it with the interpreter it is about to build ``.venv`` from. It checks the version
(the course needs Python 3.11 or newer, as pyproject.toml's ``requires-python`` says) and that
the ``venv`` module can create an environment with pip (Debian and Ubuntu ship that part as a
separate package). Written for old interpreters too, so that they fail with this message rather
than with a syntax error.
"""

import sys

MINIMUM = (3, 11)


def problems():
    found = []
    if sys.version_info[:2] < MINIMUM:
        found.append("this is Python %d.%d; the course needs Python %d.%d or newer"
                     % (sys.version_info[0], sys.version_info[1], MINIMUM[0], MINIMUM[1]))
        return found
    try:
        import ensurepip  # noqa: F401  (venv needs it to put pip into the new environment)
        import venv  # noqa: F401
    except ImportError:
        found.append("this Python cannot create virtual environments with pip; on Debian/Ubuntu "
                     "install the package python%d.%d-venv" % sys.version_info[:2])
    return found


def main():
    found = problems()
    if found:
        sys.stderr.write("%s: %s.\nPick another interpreter, e.g. `make PYTHON=python3.13 test`.\n"
                         % (sys.executable, "; ".join(found)))
        return 1
    print("%s: Python %d.%d.%d, suitable" % ((sys.executable,) + tuple(sys.version_info[:3])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
