package expr

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// tokenKind classifies a lexical token of the Okta-style language.
type tokenKind uint8

const (
	tokEOF tokenKind = iota
	tokIdent
	tokString
	tokNumber
	tokOp // operators and punctuation; text holds the canonical spelling
	tokIllegal
)

// token is one lexical unit. pos is the byte offset of its first byte in the
// whole source; rpos is the same position counted in runes (what expr's
// file.Location uses).
type token struct {
	kind tokenKind
	text string // identifier, operator, raw number, or decoded string value
	pos  int
	rpos int
	end  int // byte offset just past the token
	rend int // rune offset just past the token
}

// lexer produces tokens on demand from src starting at a byte offset. It
// keeps the rune offset in step with the byte offset so positions can be
// handed to expr without re-scanning.
type lexer struct {
	src  string
	pos  int
	rpos int
}

func (l *lexer) advance(n int) {
	// n bytes are consumed; count their runes.
	l.rpos += utf8.RuneCountInString(l.src[l.pos : l.pos+n])
	l.pos += n
}

func isIdentStart(c byte) bool {
	return c == '_' || c == '$' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func isIdentPart(c byte) bool {
	return isIdentStart(c) || (c >= '0' && c <= '9')
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// twoOps lists the multi-character operators in the order they
// must be tried (longest first).
var twoOps = [...]string{"==", "!=", "<=", ">=", "&&", "||", "?:"}

// next returns the next token. Whitespace is skipped. A string literal that
// is not closed, or a character the language does not use, comes back as a
// tokIllegal token whose text explains the problem.
func (l *lexer) next() token {
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		if c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v' {
			l.advance(1)
			continue
		}
		break
	}
	start, rstart := l.pos, l.rpos
	mk := func(kind tokenKind, text string) token {
		return token{kind: kind, text: text, pos: start, rpos: rstart, end: l.pos, rend: l.rpos}
	}
	if l.pos >= len(l.src) {
		return mk(tokEOF, "")
	}
	c := l.src[l.pos]
	switch {
	case isIdentStart(c):
		n := 1
		for l.pos+n < len(l.src) && isIdentPart(l.src[l.pos+n]) {
			n++
		}
		text := l.src[l.pos : l.pos+n]
		l.advance(n)
		return mk(tokIdent, text)
	case isDigit(c):
		n := 1
		for l.pos+n < len(l.src) && isDigit(l.src[l.pos+n]) {
			n++
		}
		// Fraction: a dot followed by a digit (so "1.x" stays an error later).
		if l.pos+n+1 < len(l.src) && l.src[l.pos+n] == '.' && isDigit(l.src[l.pos+n+1]) {
			n += 2
			for l.pos+n < len(l.src) && isDigit(l.src[l.pos+n]) {
				n++
			}
		}
		// Exponent.
		if l.pos+n < len(l.src) && (l.src[l.pos+n] == 'e' || l.src[l.pos+n] == 'E') {
			m := n + 1
			if l.pos+m < len(l.src) && (l.src[l.pos+m] == '+' || l.src[l.pos+m] == '-') {
				m++
			}
			if l.pos+m < len(l.src) && isDigit(l.src[l.pos+m]) {
				for l.pos+m < len(l.src) && isDigit(l.src[l.pos+m]) {
					m++
				}
				n = m
			}
		}
		text := l.src[l.pos : l.pos+n]
		l.advance(n)
		// A letter glued to a number ("12abc") is a typo worth reporting.
		if l.pos < len(l.src) && isIdentStart(l.src[l.pos]) {
			return mk(tokIllegal, "invalid number "+text+string(l.src[l.pos]))
		}
		return mk(tokNumber, text)
	case c == '"' || c == '\'':
		return l.lexString(c, start, rstart)
	}
	for _, op := range twoOps {
		if strings.HasPrefix(l.src[l.pos:], op) {
			l.advance(len(op))
			return mk(tokOp, op)
		}
	}
	switch c {
	case '+', '-', '*', '/', '%', '<', '>', '!', '?', ':', '(', ')', '{', '}', '[', ']', ',', '.':
		l.advance(1)
		return mk(tokOp, string(c))
	case '=':
		l.advance(1)
		return mk(tokIllegal, "assignment is not allowed; use == to compare")
	}
	r, size := utf8.DecodeRuneInString(l.src[l.pos:])
	l.advance(size)
	if r == utf8.RuneError && size == 1 {
		return mk(tokIllegal, "invalid UTF-8 byte")
	}
	return mk(tokIllegal, "unexpected character "+quoteRune(r))
}

// lexString reads a SpEL string literal. The quote character is escaped by
// doubling it ('It”s', "say ""hi"""); a backslash is an ordinary character,
// as in Okta (so "\" is a one-character string holding a backslash).
func (l *lexer) lexString(q byte, start, rstart int) token {
	l.advance(1)
	var b strings.Builder
	for {
		i := strings.IndexByte(l.src[l.pos:], q)
		if i < 0 {
			l.advance(len(l.src) - l.pos)
			return token{kind: tokIllegal, text: "unterminated string literal", pos: start, rpos: rstart, end: l.pos, rend: l.rpos}
		}
		b.WriteString(l.src[l.pos : l.pos+i])
		l.advance(i + 1)
		if l.pos < len(l.src) && l.src[l.pos] == q {
			b.WriteByte(q)
			l.advance(1)
			continue
		}
		s := b.String()
		if !utf8.ValidString(s) {
			return token{kind: tokIllegal, text: "string literal is not valid UTF-8", pos: start, rpos: rstart, end: l.pos, rend: l.rpos}
		}
		return token{kind: tokString, text: s, pos: start, rpos: rstart, end: l.pos, rend: l.rpos}
	}
}

func quoteRune(r rune) string {
	if r < 0x20 || r == 0x7f || !unicode.IsPrint(r) {
		return fmt.Sprintf("U+%04X", r)
	}
	return "'" + string(r) + "'"
}
