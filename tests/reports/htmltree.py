"""A small element tree from Python's html.parser, for the report tests:
what a browser builds from well-formed HTML, without a browser."""
from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
        "source", "track", "wbr"}


class Node:
    def __init__(self, tag, attrs, parent):
        self.tag, self.attrs, self.parent = tag, dict(attrs), parent
        self.children = []  # Nodes and strings

    def text(self):
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def iter(self, tag=None):
        for c in self.children:
            if isinstance(c, Node):
                if tag is None or c.tag == tag:
                    yield c
                yield from c.iter(tag)

    def find(self, tag, **attrs):
        for n in self.iter(tag):
            if all(n.attrs.get(k.rstrip("_")) == v for k, v in attrs.items()):
                return n
        return None

    def classes(self):
        return (self.attrs.get("class") or "").split()


class TreeBuilder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", [], None)
        self.at = self.root
        self.tags, self.styles, self.errors = [], [], []

    def handle_starttag(self, tag, attrs):
        node = Node(tag, attrs, self.at)
        self.at.children.append(node)
        self.tags.append((tag, attrs))
        if tag not in VOID:
            self.at = node

    def handle_endtag(self, tag):
        n = self.at
        while n is not None and n.tag != tag:
            n = n.parent
        if n is None:
            self.errors.append("stray </%s>" % tag)
            return
        if n is not self.at:
            self.errors.append("</%s> closes <%s>" % (tag, self.at.tag))
        self.at = n.parent

    def handle_data(self, data):
        if self.at.tag == "style":
            self.styles.append(data)
        self.at.children.append(data)


def parse(text):
    b = TreeBuilder()
    b.feed(text)
    b.close()
    return b


def table_rows(table):
    """Rows of a table as dicts keyed by the header cells' data-col, each
    value the cell Node; with the row Node under the key None."""
    cols = [th.attrs.get("data-col") for th in table.find("thead").iter("th")]
    rows = []
    for part in ("tbody", "tfoot"):
        for section in (c for c in table.children if isinstance(c, Node) and c.tag == part):
            for tr in (c for c in section.children if isinstance(c, Node) and c.tag == "tr"):
                cells = [c for c in tr.children if isinstance(c, Node) and c.tag == "td"]
                if len(cells) != len(cols):
                    continue
                row = dict(zip(cols, cells))
                row[None], row["#part"] = tr, part
                rows.append(row)
    return rows
