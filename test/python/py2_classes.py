"""Classes whose instances the Python 2 fixtures pickle (test/fixtures/make_fixtures.py).

Importable by Python 2.7 and Python 3 alike, under the same module name, so that Python 2 writes
`py2_classes.Name` into its pickles and Python 3 can load them back. In Python 2 the classes
without a base are old-style (pickled with INST or OBJ); the others are new-style (pickled with
copy_reg._reconstructor at protocols 0-1 and NEWOBJ at protocol 2).
"""


class OldStyle:
    """Old-style in Python 2: no __getinitargs__, so INST/OBJ carry no arguments."""

    def __init__(self, a=1, b="two"):
        self.a = a
        self.b = b


class OldWithArgs:
    """Old-style with __getinitargs__: INST/OBJ carry (x, y) and Python 3 calls the class."""

    def __init__(self, x=0, y=None):
        self.x = x
        self.y = y
        self.sum = "%r+%r" % (x, y)

    def __getinitargs__(self):
        return (self.x, self.y)


class NewStyle(object):
    """New-style with a plain __dict__."""

    def __init__(self, name="rex", tags=None):
        self.name = name
        self.tags = tags if tags is not None else []


class NewWithArgs(object):
    """New-style with __getnewargs__: NEWOBJ (protocol 2) carries the arguments."""

    def __new__(cls, x=0, y=None):
        self = object.__new__(cls)
        self.x = x
        self.y = y
        return self

    def __getnewargs__(self):
        return (self.x, self.y)


class NewWithState(object):
    """New-style with __getstate__/__setstate__: BUILD carries a tuple, not a dict."""

    def __init__(self, a=0, b=0):
        self.a = a
        self.b = b

    def __getstate__(self):
        return (self.a, self.b)

    def __setstate__(self, state):
        self.a, self.b = state


class MyList(list):
    """A list subclass: its items come through APPEND/APPENDS on the instance."""


class MyDict(dict):
    """A dict subclass: its items come through SETITEM/SETITEMS on the instance."""
