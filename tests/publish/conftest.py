import sys
from pathlib import Path

# the fake Hub server lives beside the tests that use it
sys.path.insert(0, str(Path(__file__).parent))
