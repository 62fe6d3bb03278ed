"""`archcalc rf --draw`: a receptive field drawn on a picture with Pillow (imported here, lazily;
the 'plot' extra). The geometry is archcalc.render.fieldbox's; this module only paints it:

- the picture (or a checkerboard) at the net's input size, scaled; outside the field it is dimmed;
- the margins around it are the padding: grey, and orange where the field reaches into them;
- the field's outline, its centre (a cross) and its neighbours' centres (dots joined to the
  centre: one effective stride apart), and a caption with the figures below."""

from __future__ import annotations

from pathlib import Path

from ..errors import ArchcalcError, UsageError, clip
from .cells import shape_text
from .escape import visible
from .fieldbox import FieldBox

DRAW_MISSING = 'archcalc rf --draw needs Pillow, which is not installed: pip install "archcalc[plot]"'
FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP"}
# Colours (RGB), chosen to read on photos and on the checkerboard alike; tests read them back.
FIELD = (230, 25, 75)  # the field's outline
PADDING = (255, 165, 40)  # the field's part beyond the input's borders
MARGIN = (205, 212, 222)  # padding the field does not reach
CENTRE = (0, 90, 255)
NEIGHBOUR = (0, 200, 220)
CHECKER = ((250, 250, 250), (175, 175, 175))
CAPTION_BACKGROUND = (255, 255, 255)
CAPTION_TEXT = (20, 20, 20)
DIM = 0.45  # brightness outside the field
CHECKER_CELL = 8  # input pixels per checkerboard square


def require_pillow():
    try:
        import PIL  # noqa: F401
    except ImportError:
        raise ArchcalcError(DRAW_MISSING) from None


def image_format(path: Path) -> str:
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        shown = path.suffix or "no suffix"
        raise UsageError(f"cannot tell the format of {clip(path.name)} ({shown}): the output must end in .png, .jpg or .webp")
    return fmt


def checkerboard(size: tuple[int, int]):
    """A checkerboard of the input's size (height, width), squares of CHECKER_CELL input pixels."""
    from PIL import Image

    height, width = size
    cell = Image.new("RGB", (2, 2), CHECKER[0])
    cell.putpixel((1, 0), CHECKER[1])
    cell.putpixel((0, 1), CHECKER[1])
    tiles = cell.resize((2 * CHECKER_CELL, 2 * CHECKER_CELL), Image.Resampling.NEAREST)
    board = Image.new("RGB", (width, height))
    for y in range(0, height, 2 * CHECKER_CELL):
        for x in range(0, width, 2 * CHECKER_CELL):
            board.paste(tiles, (x, y))
    return board


def load_picture(path: Path | None, size: tuple[int, int]):
    """(the picture resized to the input's (height, width), what it is for the note); a
    checkerboard without a path. An unreadable file is one clear error."""
    from PIL import Image, UnidentifiedImageError

    height, width = size
    if path is None:
        return checkerboard(size), f"a {height}x{width} checkerboard"
    try:
        with Image.open(path) as opened:
            original = opened.size
            picture = opened.convert("RGB").resize((width, height), Image.Resampling.LANCZOS)
    except FileNotFoundError:
        raise UsageError(f"no such image: {clip(str(path), 200)}") from None
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not an image Pillow can read"
        raise UsageError(f"cannot read image {clip(str(path), 200)}: {reason}") from None
    return picture, f"{clip(path.name)} ({original[0]}x{original[1]} resized to {width}x{height})"


def _font(size: int):
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError, AttributeError):  # an old Pillow or one built without FreeType
        return ImageFont.load_default()


def caption_lines(box: FieldBox) -> list[str]:
    def span(s, what):
        where = f"{what} {s.start}..{s.end}"
        real = s.real
        inside = f" (input {real[0]}..{real[1]})" if real and (s.before or s.after) else ""
        return where + inside

    def number(value):
        return str(value.numerator) if value.denominator == 1 else f"{float(value):.4g}"

    lines = [f"{visible(clip(box.layer, 120, keep_end=True))} at row {box.position[0]}, column {box.position[1]} of its {box.output[0]}x{box.output[1]} output; "
             f"input {shape_text(box.input_size)}",
             f"receptive field {box.rows.end - box.rows.start + 1}x{box.cols.end - box.cols.start + 1}: "
             f"{span(box.rows, 'rows')}, {span(box.cols, 'columns')}",
             f"centre (row {number(box.rows.centre)}, column {number(box.cols.centre)}); effective stride "
             f"{number(box.rows.stride)}x{number(box.cols.stride)} (the dots: neighbouring outputs' centres)"]
    if any(box.cut):
        top, bottom, left, right = box.cut
        lines.append(f"the field reaches further into the padding than shown (cut: {top} above, {bottom} below, "
                     f"{left} left, {right} right)")
    lines.append("orange: padding inside the field; grey: padding outside it")
    return lines


def _wrapped(draw, lines: list[str], font, width: int) -> list[str]:
    out = []
    for line in lines:
        words, current = line.split(" "), ""
        for word in words:
            trial = f"{current} {word}".strip()
            if current and draw.textlength(trial, font=font) > width:
                out.append(current)
                current = word
            else:
                current = trial
        out.append(current)
    return out


def _mark_centres(draw, box: FieldBox) -> None:
    centre = box.centre_pixel((box.rows.centre, box.cols.centre))
    arm = max(6.0, 1.5 * box.scale)
    thin = max(2, int(round(box.scale / 3)))
    for _, neighbour in box.neighbours:
        x, y = box.centre_pixel(neighbour)
        draw.line([centre, (x, y)], fill=NEIGHBOUR, width=thin)
    for _, neighbour in box.neighbours:
        x, y = box.centre_pixel(neighbour)
        radius = arm * 0.6
        draw.ellipse([x - radius, y - radius, x + radius, y + radius], fill=NEIGHBOUR, outline=(0, 0, 0))
    x, y = centre
    draw.line([(x - arm, y), (x + arm, y)], fill=CENTRE, width=thin + 1)
    draw.line([(x, y - arm), (x, y + arm)], fill=CENTRE, width=thin + 1)


def outline_width(box: FieldBox) -> int:
    return max(2, int(round(box.scale / 2)))


def draw_box(picture, box: FieldBox, origin: str = ""):
    """The finished picture: ``picture`` (input-sized) with ``box`` drawn on it and the caption."""
    from PIL import Image, ImageDraw, ImageEnhance

    width, height = box.canvas
    scaled = picture.resize((box.pixel(box.cols.size), box.pixel(box.rows.size)), Image.Resampling.NEAREST)
    canvas = Image.new("RGB", (width, height), MARGIN)
    image_at = (box.x(0), box.y(0))
    canvas.paste(ImageEnhance.Brightness(scaled).enhance(DIM), image_at)
    draw = ImageDraw.Draw(canvas)
    fx0, fy0, fx1, fy1 = box.field
    draw.rectangle([fx0, fy0, fx1, fy1], fill=PADDING)  # the padding part stays orange
    if box.rows.real and box.cols.real:  # the real part: the picture at full brightness
        rx0, ry0, rx1, ry1 = box.rectangle(box.rows.real, box.cols.real)
        canvas.paste(scaled.crop((rx0 - image_at[0], ry0 - image_at[1], rx1 + 1 - image_at[0], ry1 + 1 - image_at[1])),
                     (rx0, ry0))
    if any(box.margins):
        ix0, iy0, ix1, iy1 = box.image
        draw.rectangle([ix0 - 1, iy0 - 1, ix1 + 1, iy1 + 1], outline=(60, 60, 60), width=1)
    draw.rectangle([fx0, fy0, fx1, fy1], outline=FIELD, width=outline_width(box))
    _mark_centres(draw, box)
    return _with_caption(canvas, box, ImageDraw)


def _with_caption(canvas, box: FieldBox, image_draw):
    from PIL import Image

    width, height = canvas.size
    font_size = 15
    font = _font(font_size)
    measure = image_draw.Draw(Image.new("RGB", (1, 1)))
    text_width = max(width, 480)
    lines = _wrapped(measure, caption_lines(box), font, text_width - 16)
    step = font_size + 6
    framed = Image.new("RGB", (text_width, height + 12 + step * len(lines)), CAPTION_BACKGROUND)
    framed.paste(canvas, (0, 0))
    draw = image_draw.Draw(framed)
    for index, line in enumerate(lines):
        draw.text((8, height + 6 + index * step), line, fill=CAPTION_TEXT, font=font)
    return framed


def save_picture(picture, path: Path, fmt: str) -> None:
    try:
        picture.save(path, format=fmt)
    except OSError as exc:
        raise UsageError(f"cannot write {clip(str(path), 200)}: {exc.strerror or exc}") from None
