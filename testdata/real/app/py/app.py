# The app in Python (componentize-py): hello(name) = greet(name).upper()
import wit_world
from wit_world.imports import greet


class WitWorld(wit_world.WitWorld):
    def hello(self, name: str) -> str:
        return greet.greet(name).upper()
