import pytest
from printer_support import Stack


@pytest.fixture
def make_stack(tmp_path):
    stacks = []

    def make(**kwargs):
        stack = Stack(tmp_path, **kwargs)
        stacks.append(stack)
        return stack

    yield make
    for stack in stacks:
        stack.close()


@pytest.fixture
def stack(make_stack):
    stack = make_stack()
    stack.connect()
    return stack
