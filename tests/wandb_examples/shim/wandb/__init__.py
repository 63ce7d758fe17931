import sys

import trackui

sys.modules[__name__] = trackui
