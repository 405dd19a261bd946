import XCTest
import RWCNN

final class JSONTests: XCTestCase {
    private func parse(_ text: String) throws -> JSONValue { try JSONValue.parse(Array(text.utf8)) }

    func testParsesValuesAndKeepsMemberOrder() throws {
        XCTAssertEqual(try parse(#" { "b" : [1, true, false, null, "x"], "a" : {} , "c": [] } "#),
                       .object([("b", .array([.number(1), .bool(true), .bool(false), .null, .string("x")])),
                                ("a", .object([])), ("c", .array([]))]))
        XCTAssertNotEqual(try parse(#"{"a":1,"b":2}"#), try parse(#"{"b":2,"a":1}"#))
        XCTAssertEqual(try parse(#"{"a":1,"b":2}"#)["b"], .number(2))
        XCTAssertNil(try parse(#"{"a":1}"#)["z"])
        XCTAssertEqual(try parse("\t\r\n 7 \n"), .number(7))
    }

    func testStringEscapesAndUnicode() throws {
        XCTAssertEqual(try parse(#""\" \\ \/ \b \f \n \r \t""#), .string("\" \\ / \u{08} \u{0C} \n \r \t"))
        XCTAssertEqual(try parse(#""\u0041\u00e9\u00E9\u2713\u0000""#), .string("A\u{e9}\u{e9}\u{2713}\u{0}"))
        XCTAssertEqual(try parse(#""\ud83d\ude00 \uD834\uDD1E""#), .string("\u{1F600} \u{1D11E}"))
        XCTAssertEqual(try parse("\"caf\u{e9} \u{1F600} raw\""), .string("caf\u{e9} \u{1F600} raw"))
        XCTAssertEqual(try parse(#""a\nb""#), .string("a\nb"))
    }

    func testNumbers() throws {
        let cases: [(String, Double)] = [
            ("0", 0), ("-0", -0.0), ("12", 12), ("-3.25", -3.25), ("1e3", 1000), ("1E+3", 1000), ("2.5e-3", 0.0025),
            ("123456789012345", 123_456_789_012_345), ("9007199254740993", 9_007_199_254_740_992),
            ("1.7976931348623157e308", .greatestFiniteMagnitude), ("0.1", 0.1), ("5e-324", .leastNonzeroMagnitude),
        ]
        for (text, value) in cases {
            guard case .number(let x) = try parse(text) else { XCTFail(text); continue }
            XCTAssertEqual(x.bitPattern, value.bitPattern, text)
        }
    }

    func testRejectsInvalidTextWithAPosition() {
        let bad = [
            "", "   ", "\u{FEFF}{}", "{} x", "[1] [2]", "1 2", "[1,]", "[,1]", #"{"a":1,}"#, #"{"a" 1}"#, #"{a:1}"#,
            "{'a':1}", "[1", "{", #"{"a":"#, "\"abc", "\"a\u{01}b\"", #""\x""#, #""\u12""#, #""\u12g4""#,
            #""\ud83d""#, #""\ud83d x""#, #""\ud83d\u0041""#, #""\ude00""#, "01", "-", "1.", ".5", "+1", "1e", "1e+",
            "--1", "NaN", "Infinity", "-Infinity", "1e400", "-1e400", "tru", "nul", "True", "[1 2]", #"{"a":1 "b":2}"#,
            #"{"k":1,"k":2}"#, String(repeating: "[", count: 100_000),
        ]
        for text in bad {
            XCTAssertThrowsError(try parse(text), text) { e in
                guard case .format(let m)? = e as? RWCNNError else { return XCTFail("\(text): \(e)") }
                XCTAssertTrue(m.contains("at byte"), m)
            }
        }
        XCTAssertThrowsError(try JSONValue.parse([UInt8(ascii: "\""), 0xC3, 0x28, UInt8(ascii: "\"")]))  // invalid UTF-8
        XCTAssertThrowsError(try JSONValue.parse([UInt8(ascii: "\""), 0xED, 0xA0, 0x80, UInt8(ascii: "\"")]))  // encoded surrogate
        XCTAssertThrowsError(try parse("[1, x]")) { e in
            XCTAssertTrue((e as? RWCNNError)?.message.contains("byte 4") == true, "\(e)")
        }
        XCTAssertThrowsError(try parse(#"{"k":1,"k":2}"#)) { e in
            XCTAssertTrue((e as? RWCNNError)?.message.contains("duplicate key \"k\"") == true, "\(e)")
        }
        // Nesting up to the limit is fine.
        XCTAssertNoThrow(try parse(String(repeating: "[", count: 512) + String(repeating: "]", count: 512)))
    }

    func testSerializationEscapesAndRoundTrips() throws {
        XCTAssertEqual(try JSONValue.string("a\"b\\c\nd\te\u{01}\u{1F}/\u{e9}\u{1F600}").serialized(),
                       #""a\"b\\c\nd\te\u0001\u001f/"# + "\u{e9}\u{1F600}\"")
        XCTAssertEqual(try JSONValue.object([("x", .array([.number(3), .number(-0.5), .number(1e-5), .number(1e300),
                                                          .bool(true), .null])), ("", .object([]))]).serialized(),
                       #"{"x":[3,-0.5,1e-05,1e+300,true,null],"":{}}"#)
        XCTAssertEqual(try JSONValue.number(9_007_199_254_740_000).serialized(), "9007199254740000")
        let values: [JSONValue] = [
            .string("\u{0}\u{7F}\u{08}\u{0C}\r caf\u{e9} \u{1D11E}"), .number(0.1), .number(-123.456e-7),
            .number(.leastNonzeroMagnitude), .number(.greatestFiniteMagnitude),
            .object([("k\"ey", .array([.null, .string("")])), ("n", .number(42))]),
        ]
        for v in values {
            let text = try v.serialized()
            XCTAssertEqual(try JSONValue.parse(Array(text.utf8)), v, text)
        }
        XCTAssertThrowsError(try JSONValue.number(.nan).serialized())
        XCTAssertThrowsError(try JSONValue.array([.number(.infinity)]).serialized())
    }
}
