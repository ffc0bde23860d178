# demo:greeter@1.0.0 in Python (componentize-py): greet(name) = "Hello, <name>!"
from wit_world import exports


class Greet(exports.Greet):
    def greet(self, name: str) -> str:
        return f"Hello, {name}!"
