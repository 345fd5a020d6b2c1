// JsonTest: the specification of the header's JSON reader and quoting: what it accepts and how it
// returns it, and the one-line error, with its position, for each kind of malformed input.
package org.bnnas.engine.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class JsonTest {
    @Test
    void aHeaderReadsAsMapsListsStringsAndLongs() {
        Object v = Json.parse("{\"__metadata__\":{\"format\":\"pt\"},\"w\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]}}");
        Map<String, Object> w = new LinkedHashMap<>();
        w.put("dtype", "F32");
        w.put("shape", List.of(2L, 3L));
        w.put("data_offsets", List.of(0L, 24L));
        Map<String, Object> want = new LinkedHashMap<>();
        want.put("__metadata__", Map.of("format", "pt"));
        want.put("w", w);
        assertEquals(want, v);
        assertInstanceOf(LinkedHashMap.class, v);
    }

    @Test
    void objectsKeepTheDocumentsKeyOrder() {
        Map<?, ?> m = (Map<?, ?>) Json.parse("{\"z\":1,\"a\":2,\"m\":3}");
        assertEquals(List.of("z", "a", "m"), new ArrayList<>(m.keySet()));
    }

    @Test
    void emptyContainersAndAnyValueAtTheTop() {
        assertEquals(Map.of(), Json.parse("{}"));
        assertEquals(List.of(), Json.parse("[ ]"));
        assertEquals("s", Json.parse("\"s\""));
        assertEquals(-7L, Json.parse("-7"));
    }

    @Test
    void nestedArrays() {
        assertEquals(List.of(List.of(1L, List.of()), List.of(List.of(List.of(-2L)))), Json.parse("[[1,[]],[[[-2]]]]"));
    }

    @Test
    void whitespaceIsSpaceTabNewlineAndCarriageReturnAnywhereBetweenTokens() {
        assertEquals(Map.of("a", List.of(1L, 2L)), Json.parse(" \t\r\n{ \"a\" \n:\t[ 1 ,\r\n2 ] }\n  "));
        assertError("\f{}", "unexpected character '\\u000c' at character 0"); // a form feed is not JSON whitespace
        assertError("{}\u00a0", "unexpected content after the top-level value at character 2");
    }

    @Test
    void integersAreLongsOverTheirWholeRange() {
        assertEquals(Long.MAX_VALUE, Json.parse("9223372036854775807"));
        assertEquals(Long.MIN_VALUE, Json.parse("-9223372036854775808"));
        assertEquals(0L, Json.parse("-0"));
        assertEquals(List.of(0L, 10L, 123456789012L), Json.parse("[0,10,123456789012]"));
    }

    @Test
    void everyStringEscape() {
        assertEquals("\" \\ / \b \f \n \r \t", Json.parse("\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t\""));
        assertEquals("A\u00e9\u2713\u0000", Json.parse("\"\\u0041\\u00E9\\u2713\\u0000\""));
    }

    @Test
    void aSurrogatePairOfEscapesIsOneCodePoint() {
        String s = (String) Json.parse("\"\\ud83d\\ude00\"");
        assertEquals("\uD83D\uDE00", s);
        assertEquals(1, s.codePointCount(0, s.length()));
        assertEquals(0x1F600, s.codePointAt(0));
    }

    @Test
    void charactersOutsideAsciiPassThroughUnescaped() {
        assertEquals(Map.of("gr\u00fc\u00df \uD83D\uDE00", "\u4e2d"), Json.parse("{\"gr\u00fc\u00df \uD83D\uDE00\":\"\u4e2d\"}"));
    }

    @Test
    void quoteEscapesWhatJsonRequiresAndNothingElse() {
        assertEquals("\"plain \u00e9\u2713\"", Json.quote("plain \u00e9\u2713"));
        assertEquals("\"\\\" \\\\ / \\b \\f \\n \\r \\t \\u0001 \\u001f\"", Json.quote("\" \\ / \b \f \n \r \t \u0001 \u001f"));
    }

    @Test
    void quoteThenParseGivesBackEveryCharacter() {
        StringBuilder all = new StringBuilder();
        for (char c = 0; c < 0xD800; c++) all.append(c);
        for (char c = 0xE000; c != 0; c++) all.append(c); // up to 0xFFFF, where the char wraps to 0
        all.append("\uD83D\uDE00");
        String s = all.toString();
        String quoted = Json.quote(s);
        assertEquals(s, Json.parse(quoted));
        assertFalse(quoted.contains("\n") || quoted.contains("\r"), "a quoted string is one line");
    }

    // ---- malformed input: one line, what was expected, where ----------------------------------

    @ParameterizedTest(name = "[{index}] {1}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        // input | message
        "``                       | unexpected end at character 0",
        "`   `                    | unexpected end at character 3",
        "`{\"a\":`                | unexpected end at character 5",
        "`{\"a\" 1}`              | expected ':' at character 5",
        "`{\"a\":1 \"b\":2}`      | expected ',' or '}' at character 7",
        "`{\"a\":1,}`             | expected a string key at character 7",
        "`{a:1}`                  | expected a string key at character 1",
        "`[1 2]`                  | expected ',' or ']' at character 3",
        "`[1,]`                   | unexpected character ']' at character 3",
        "`[1`                     | expected ',' or ']' at character 2",
        "`{\"a\":1}}`             | unexpected content after the top-level value at character 7",
        "`{} []`                  | unexpected content after the top-level value at character 3",
        "`{\"a\":1,\"a\":2}`      | duplicate key \"a\" at character 12",
        "`[1.5]`                  | only integers are allowed at character 2",
        "`[1e3]`                  | only integers are allowed at character 2",
        "`[1E3]`                  | only integers are allowed at character 2",
        "`[01]`                   | leading zero in number at character 3",
        "`[-01]`                  | leading zero in number at character 4",
        "`[-]`                    | expected a digit at character 2",
        "`[+1]`                   | unexpected character '+' at character 1",
        "`9223372036854775808`    | integer out of range at character 19",
        "`-9223372036854775809`   | integer out of range at character 20",
        "`[true]`                 | unexpected character 't' at character 1",
        "`[null]`                 | unexpected character 'n' at character 1",
        "`\"abc`                  | unterminated string at character 4",
        "`\"abc\\`                | unterminated string at character 5",
        "`\"\\x\"`                | bad escape '\\x' at character 3",
        "`\"\\u12\"`              | short \\u escape at character 3",
        "`\"\\u12`                | short \\u escape at character 3",
        "`\"\\u12G4\"`            | bad \\u escape at character 3",
    })
    void malformedInputIsRefused(String input, String message) {
        assertError(input, message);
    }

    @Test
    void controlCharactersAreRefusedInsideStringsAndNamedOnOneLine() {
        assertError("\"a\nb\"", "control character in string at character 3");
        assertError("\"a\tb\"", "control character in string at character 3");
        assertError("\"a\\\nb\"", "bad escape '\\\\u000a' at character 4");
        assertError("\u0001", "unexpected character '\\u0001' at character 0");
    }

    @Test
    void nestingIsBounded() {
        assertEquals(List.of(), unwrap(Json.parse("[".repeat(65) + "]".repeat(65)), 64));
        assertError("[".repeat(66) + "]".repeat(66), "nesting deeper than 64 at character 65");
        assertError("{\"a\":".repeat(70) + "1" + "}".repeat(70), "nesting deeper than 64 at character 325");
    }

    private static Object unwrap(Object v, int levels) {
        for (int i = 0; i < levels; i++) v = ((List<?>) v).get(0);
        return v;
    }

    private static void assertError(String input, String message) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Json.parse(input));
        assertEquals(message, e.getMessage());
        assertTrue(e.getMessage().lines().count() == 1, e.getMessage());
    }
}
