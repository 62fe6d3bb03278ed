"""A module class is read by its base class's rule only when it computes what its base computes."""

from archcalc.layers.imports.calls import class_key, table_key


class Base:
    def forward(self, x):
        return x


class ChoosesArguments(Base):  # like torchvision's Conv3DSimple: only __init__
    def __init__(self):
        pass


class Overrides(Base):
    def forward(self, x):
        return x + 1


class BelowAnOverride(Overrides):
    pass


TABLE = {class_key(Base): "rule"}


def test_a_subclass_without_forward_is_read_as_its_base():
    assert table_key(ChoosesArguments, TABLE) == class_key(Base)


def test_a_subclass_that_defines_forward_is_not():
    assert table_key(Overrides, TABLE) == class_key(Overrides)
    assert table_key(BelowAnOverride, TABLE) == class_key(BelowAnOverride)


def test_a_class_in_the_table_is_its_own_key():
    assert table_key(Base, TABLE) == class_key(Base)
