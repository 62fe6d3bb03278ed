"""Spec document -> Graph: block, repeat and condition expansion (expand), input resolution and
topological order (order), the node and graph data (model), and the entry point (build)."""

from .build import build_graph, load_graph
from .model import Endpoint, Graph, Group, Node

__all__ = ["Endpoint", "Graph", "Group", "Node", "build_graph", "load_graph"]
