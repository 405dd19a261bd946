// A small bitmap font for the labels of image grids (the demo's, the
// studies'): 5 x 9 cells, cap height 7 rows, x-height 5 rows (rows 2-6),
// baseline under row 6, and descenders in rows 7-8 (g, j, p, q, y and the
// underscore), so lower-case text reads as lower case. Built in rather than
// taken from a font renderer: no font file or FreeType to install, and the
// same pixels on every machine (grids are compared byte for byte).

/// The label font: rows of 5 columns, "#" inked.
public enum LabelFont {
    /// Glyph cell width and height in font pixels.
    public static let cellWidth = 5, cellHeight = 9
    /// Horizontal advance per character (one blank column between glyphs).
    public static let advance = 6
    /// Rows above the baseline (cap height) and below it (descenders).
    public static let ascent = 7, descent = 2

    /// The glyph of `ch`: `cellHeight` rows of `cellWidth` characters, or
    /// nil for a character outside the font (drawn as "?").
    public static func glyph(_ ch: Character) -> [String]? { glyphs[ch] }

    /// Every character the font has.
    public static var characters: [Character] { Array(glyphs.keys) }
}

private let glyphs: [Character: [String]] = [
    "a": ["     ", "     ", " ### ", "    #", " ####", "#   #", " ####", "     ", "     "],
    "b": ["#    ", "#    ", "#### ", "#   #", "#   #", "#   #", "#### ", "     ", "     "],
    "c": ["     ", "     ", " ####", "#    ", "#    ", "#    ", " ####", "     ", "     "],
    "d": ["    #", "    #", " ####", "#   #", "#   #", "#   #", " ####", "     ", "     "],
    "e": ["     ", "     ", " ### ", "#   #", "#####", "#    ", " ####", "     ", "     "],
    "f": ["  ## ", " #  #", " #   ", "#### ", " #   ", " #   ", " #   ", "     ", "     "],
    "g": ["     ", "     ", " ####", "#   #", "#   #", "#   #", " ####", "    #", " ### "],
    "h": ["#    ", "#    ", "#### ", "#   #", "#   #", "#   #", "#   #", "     ", "     "],
    "i": ["  #  ", "     ", " ##  ", "  #  ", "  #  ", "  #  ", " ### ", "     ", "     "],
    "j": ["   # ", "     ", "  ## ", "   # ", "   # ", "   # ", "   # ", "#  # ", " ##  "],
    "k": ["#    ", "#    ", "#  # ", "# #  ", "##   ", "# #  ", "#  # ", "     ", "     "],
    "l": [" ##  ", "  #  ", "  #  ", "  #  ", "  #  ", "  #  ", " ### ", "     ", "     "],
    "m": ["     ", "     ", "## # ", "# # #", "# # #", "# # #", "#   #", "     ", "     "],
    "n": ["     ", "     ", "# ## ", "##  #", "#   #", "#   #", "#   #", "     ", "     "],
    "o": ["     ", "     ", " ### ", "#   #", "#   #", "#   #", " ### ", "     ", "     "],
    "p": ["     ", "     ", "#### ", "#   #", "#   #", "#   #", "#### ", "#    ", "#    "],
    "q": ["     ", "     ", " ####", "#   #", "#   #", "#   #", " ####", "    #", "    #"],
    "r": ["     ", "     ", "# ## ", "##  #", "#    ", "#    ", "#    ", "     ", "     "],
    "s": ["     ", "     ", " ####", "#    ", " ### ", "    #", "#### ", "     ", "     "],
    "t": [" #   ", " #   ", "#### ", " #   ", " #   ", " #  #", "  ## ", "     ", "     "],
    "u": ["     ", "     ", "#   #", "#   #", "#   #", "#  ##", " ## #", "     ", "     "],
    "v": ["     ", "     ", "#   #", "#   #", "#   #", " # # ", "  #  ", "     ", "     "],
    "w": ["     ", "     ", "#   #", "#   #", "# # #", "# # #", " # # ", "     ", "     "],
    "x": ["     ", "     ", "#   #", " # # ", "  #  ", " # # ", "#   #", "     ", "     "],
    "y": ["     ", "     ", "#   #", "#   #", "#   #", "#   #", " ####", "    #", " ### "],
    "z": ["     ", "     ", "#####", "   # ", "  #  ", " #   ", "#####", "     ", "     "],
    "A": [" ### ", "#   #", "#   #", "#####", "#   #", "#   #", "#   #", "     ", "     "],
    "B": ["#### ", "#   #", "#   #", "#### ", "#   #", "#   #", "#### ", "     ", "     "],
    "C": [" ### ", "#   #", "#    ", "#    ", "#    ", "#   #", " ### ", "     ", "     "],
    "D": ["#### ", "#   #", "#   #", "#   #", "#   #", "#   #", "#### ", "     ", "     "],
    "E": ["#####", "#    ", "#    ", "#### ", "#    ", "#    ", "#####", "     ", "     "],
    "F": ["#####", "#    ", "#    ", "#### ", "#    ", "#    ", "#    ", "     ", "     "],
    "G": [" ### ", "#   #", "#    ", "# ###", "#   #", "#   #", " ####", "     ", "     "],
    "H": ["#   #", "#   #", "#   #", "#####", "#   #", "#   #", "#   #", "     ", "     "],
    "I": [" ### ", "  #  ", "  #  ", "  #  ", "  #  ", "  #  ", " ### ", "     ", "     "],
    "J": ["  ###", "   # ", "   # ", "   # ", "   # ", "#  # ", " ##  ", "     ", "     "],
    "K": ["#   #", "#  # ", "# #  ", "##   ", "# #  ", "#  # ", "#   #", "     ", "     "],
    "L": ["#    ", "#    ", "#    ", "#    ", "#    ", "#    ", "#####", "     ", "     "],
    "M": ["#   #", "## ##", "# # #", "# # #", "#   #", "#   #", "#   #", "     ", "     "],
    "N": ["#   #", "#   #", "##  #", "# # #", "#  ##", "#   #", "#   #", "     ", "     "],
    "O": [" ### ", "#   #", "#   #", "#   #", "#   #", "#   #", " ### ", "     ", "     "],
    "P": ["#### ", "#   #", "#   #", "#### ", "#    ", "#    ", "#    ", "     ", "     "],
    "Q": [" ### ", "#   #", "#   #", "#   #", "# # #", "#  # ", " ## #", "     ", "     "],
    "R": ["#### ", "#   #", "#   #", "#### ", "# #  ", "#  # ", "#   #", "     ", "     "],
    "S": [" ####", "#    ", "#    ", " ### ", "    #", "    #", "#### ", "     ", "     "],
    "T": ["#####", "  #  ", "  #  ", "  #  ", "  #  ", "  #  ", "  #  ", "     ", "     "],
    "U": ["#   #", "#   #", "#   #", "#   #", "#   #", "#   #", " ### ", "     ", "     "],
    "V": ["#   #", "#   #", "#   #", "#   #", "#   #", " # # ", "  #  ", "     ", "     "],
    "W": ["#   #", "#   #", "#   #", "# # #", "# # #", "# # #", " # # ", "     ", "     "],
    "X": ["#   #", "#   #", " # # ", "  #  ", " # # ", "#   #", "#   #", "     ", "     "],
    "Y": ["#   #", "#   #", " # # ", "  #  ", "  #  ", "  #  ", "  #  ", "     ", "     "],
    "Z": ["#####", "    #", "   # ", "  #  ", " #   ", "#    ", "#####", "     ", "     "],
    "0": [" ### ", "#   #", "#  ##", "# # #", "##  #", "#   #", " ### ", "     ", "     "],
    "1": ["  #  ", " ##  ", "  #  ", "  #  ", "  #  ", "  #  ", " ### ", "     ", "     "],
    "2": [" ### ", "#   #", "    #", "   # ", "  #  ", " #   ", "#####", "     ", "     "],
    "3": ["#####", "   # ", "  #  ", "   # ", "    #", "#   #", " ### ", "     ", "     "],
    "4": ["   # ", "  ## ", " # # ", "#  # ", "#####", "   # ", "   # ", "     ", "     "],
    "5": ["#####", "#    ", "#### ", "    #", "    #", "#   #", " ### ", "     ", "     "],
    "6": ["  ## ", " #   ", "#    ", "#### ", "#   #", "#   #", " ### ", "     ", "     "],
    "7": ["#####", "    #", "   # ", "  #  ", " #   ", " #   ", " #   ", "     ", "     "],
    "8": [" ### ", "#   #", "#   #", " ### ", "#   #", "#   #", " ### ", "     ", "     "],
    "9": [" ### ", "#   #", "#   #", " ####", "    #", "   # ", " ##  ", "     ", "     "],
    " ": ["     ", "     ", "     ", "     ", "     ", "     ", "     ", "     ", "     "],
    "%": ["##   ", "##  #", "   # ", "  #  ", " #   ", "#  ##", "   ##", "     ", "     "],
    "(": ["   # ", "  #  ", " #   ", " #   ", " #   ", "  #  ", "   # ", "     ", "     "],
    ")": [" #   ", "  #  ", "   # ", "   # ", "   # ", "  #  ", " #   ", "     ", "     "],
    "+": ["     ", "     ", "  #  ", "  #  ", "#####", "  #  ", "  #  ", "     ", "     "],
    ",": ["     ", "     ", "     ", "     ", "     ", " ##  ", " ##  ", "  #  ", " #   "],
    "-": ["     ", "     ", "     ", "     ", " ### ", "     ", "     ", "     ", "     "],
    ".": ["     ", "     ", "     ", "     ", "     ", " ##  ", " ##  ", "     ", "     "],
    "/": ["    #", "    #", "   # ", "  #  ", " #   ", "#    ", "#    ", "     ", "     "],
    ":": ["     ", "     ", " ##  ", " ##  ", "     ", " ##  ", " ##  ", "     ", "     "],
    "=": ["     ", "     ", "     ", "#####", "     ", "#####", "     ", "     ", "     "],
    "?": [" ### ", "#   #", "    #", "   # ", "  #  ", "     ", "  #  ", "     ", "     "],
    "_": ["     ", "     ", "     ", "     ", "     ", "     ", "     ", "#####", "     "],
]

/// Draws `text` in black into a CHW image (1 or 3 channels) with its top
/// at `top` and its left edge at `left`, each font pixel `scale` x `scale`
/// image pixels; characters outside the font are drawn as "?", and drawing
/// is clipped to the image.
public func drawLabel(_ text: String, into image: inout Tensor, top: Int, left: Int, scale: Int = 2) {
    guard image.rank == 3, scale >= 1 else { return }
    let channels = image.shape[0], h = image.shape[1], w = image.shape[2], plane = h * w
    let unknown = LabelFont.glyph("?")!
    image.data.withUnsafeMutableBufferPointer { d in
        var x0 = left
        for ch in text {
            let rows = LabelFont.glyph(ch) ?? unknown
            for (r, row) in rows.enumerated() {
                for (c, bit) in row.enumerated() where bit == "#" {
                    for dy in 0..<scale {
                        for dx in 0..<scale {
                            let y = top + r * scale + dy, x = x0 + c * scale + dx
                            guard y >= 0, y < h, x >= 0, x < w else { continue }
                            for k in 0..<channels { d[k * plane + y * w + x] = 0 }
                        }
                    }
                }
            }
            x0 += LabelFont.advance * scale
        }
    }
}

/// Width and height in image pixels of `text` drawn at `scale`.
public func labelSize(_ text: String, scale: Int = 2) -> (width: Int, height: Int) {
    let n = text.count
    return (n == 0 ? 0 : ((n - 1) * LabelFont.advance + LabelFont.cellWidth) * scale, LabelFont.cellHeight * scale)
}
