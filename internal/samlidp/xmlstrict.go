package samlidp

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/beevik/etree"
	xrv "github.com/mattermost/xml-roundtrip-validator"
)

// Limits applied to every inbound XML document.
const (
	// MaxEncodedSize caps the base64 text of SAMLRequest (both bindings).
	MaxEncodedSize = 256 << 10
	// MaxInflatedSize caps a DEFLATE-decompressed Redirect-binding message;
	// input inflating beyond it is rejected without being buffered.
	MaxInflatedSize = 1 << 20
	// MaxXMLDepth caps element nesting.
	MaxXMLDepth = 64
	// MaxXMLElements caps the number of elements in one message.
	MaxXMLElements = 10000
	// MaxXMLAttributes caps attributes (including namespace declarations)
	// on one element.
	MaxXMLAttributes = 64
	// MaxMetadataSize caps uploaded SP metadata.
	MaxMetadataSize = 1 << 20
)

type strictOptions struct {
	maxBytes      int
	allowComments bool
}

// parseStrict parses untrusted XML after checks that fail closed: valid
// UTF-8, size, no DTD/ENTITY or other directive, no processing instruction
// but a leading <?xml?> declaration, depth/element/attribute caps, exactly
// one root element, optionally no comments, and a round trip through
// encoding/xml that preserves every token (mattermost validator).
func parseStrict(data []byte, opt strictOptions) (*etree.Element, error) {
	if len(data) == 0 {
		return nil, errors.New("empty XML")
	}
	if len(data) > opt.maxBytes {
		return nil, fmt.Errorf("XML of %d bytes exceeds %d", len(data), opt.maxBytes)
	}
	if !utf8.Valid(data) {
		return nil, errors.New("XML is not valid UTF-8")
	}
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	depth, elements, roots := 0, 0, 0
	first := true
	for {
		tok, err := dec.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("malformed XML: %w", err)
		}
		switch t := tok.(type) {
		case xml.ProcInst:
			if !first || t.Target != "xml" {
				return nil, errors.New("processing instructions are not allowed")
			}
			if enc := xmlDeclEncoding(string(t.Inst)); enc != "" && !strings.EqualFold(enc, "utf-8") {
				return nil, fmt.Errorf("XML encoding %q not allowed (UTF-8 only)", enc)
			}
		case xml.Directive:
			return nil, errors.New("DTDs, entities and other directives are not allowed")
		case xml.Comment:
			if !opt.allowComments {
				return nil, errors.New("comments are not allowed")
			}
		case xml.StartElement:
			if depth == 0 {
				roots++
				if roots > 1 {
					return nil, errors.New("more than one root element")
				}
			}
			depth++
			elements++
			if depth > MaxXMLDepth {
				return nil, fmt.Errorf("XML nesting deeper than %d", MaxXMLDepth)
			}
			if elements > MaxXMLElements {
				return nil, fmt.Errorf("more than %d XML elements", MaxXMLElements)
			}
			if len(t.Attr) > MaxXMLAttributes {
				return nil, fmt.Errorf("more than %d attributes on one element", MaxXMLAttributes)
			}
		case xml.EndElement:
			depth--
			if depth < 0 {
				return nil, errors.New("malformed XML: unbalanced end element")
			}
		case xml.CharData:
			if depth == 0 && len(bytes.TrimSpace(t)) != 0 {
				return nil, errors.New("text outside the root element")
			}
		}
		first = false
	}
	if roots != 1 || depth != 0 {
		return nil, errors.New("XML must have exactly one complete root element")
	}
	if err := xrv.Validate(bytes.NewReader(data)); err != nil {
		return nil, fmt.Errorf("XML round-trip validation failed: %w", err)
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(data); err != nil {
		return nil, fmt.Errorf("malformed XML: %w", err)
	}
	root := doc.Root()
	if root == nil {
		return nil, errors.New("XML has no root element")
	}
	err := allElements(root, func(el *etree.Element) error {
		if el.Space != "" && el.NamespaceURI() == "" {
			return fmt.Errorf("undeclared namespace prefix %q", el.Space)
		}
		for i := range el.Attr {
			a := &el.Attr[i]
			if a.Space != "" && a.Space != "xmlns" && a.Space != "xml" && a.NamespaceURI() == "" {
				return fmt.Errorf("undeclared namespace prefix %q", a.Space)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return root, nil
}

// xmlDeclEncoding returns the encoding pseudo-attribute of an XML
// declaration body, or "".
func xmlDeclEncoding(inst string) string {
	i := strings.Index(inst, "encoding")
	if i < 0 {
		return ""
	}
	rest := strings.TrimLeft(inst[i+len("encoding"):], " \t\r\n")
	if !strings.HasPrefix(rest, "=") {
		return ""
	}
	rest = strings.TrimLeft(rest[1:], " \t\r\n")
	if rest == "" || (rest[0] != '"' && rest[0] != '\'') {
		return "?"
	}
	q := rest[0]
	end := strings.IndexByte(rest[1:], q)
	if end < 0 {
		return "?"
	}
	return rest[1 : 1+end]
}

// childElements returns the direct child elements of el with the given
// namespace URI and local name.
func childElements(el *etree.Element, ns, local string) []*etree.Element {
	var out []*etree.Element
	for _, c := range el.ChildElements() {
		if c.Tag == local && c.NamespaceURI() == ns {
			out = append(out, c)
		}
	}
	return out
}

// optionalChild returns the single child with that name, nil when absent,
// or an error when it is repeated.
func optionalChild(el *etree.Element, ns, local string) (*etree.Element, error) {
	cs := childElements(el, ns, local)
	switch len(cs) {
	case 0:
		return nil, nil
	case 1:
		return cs[0], nil
	default:
		return nil, fmt.Errorf("element %s repeated", local)
	}
}

// textOf returns the character data of an element that must hold only text.
func textOf(el *etree.Element) (string, error) {
	var b strings.Builder
	for _, t := range el.Child {
		switch c := t.(type) {
		case *etree.CharData:
			b.WriteString(c.Data)
		case *etree.Element:
			return "", fmt.Errorf("element %s must contain only text", el.Tag)
		case *etree.Comment, *etree.ProcInst, *etree.Directive:
			return "", fmt.Errorf("element %s contains markup other than text", el.Tag)
		}
	}
	return b.String(), nil
}

// allElements walks el and its descendants in document order.
func allElements(el *etree.Element, visit func(*etree.Element) error) error {
	if err := visit(el); err != nil {
		return err
	}
	for _, c := range el.ChildElements() {
		if err := allElements(c, visit); err != nil {
			return err
		}
	}
	return nil
}

// validXMLString reports whether s is valid UTF-8 made only of characters
// XML 1.0 allows.
func validXMLString(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		switch {
		case r == 0x9 || r == 0xA || r == 0xD:
		case r >= 0x20 && r <= 0xD7FF:
		case r >= 0xE000 && r <= 0xFFFD:
		case r >= 0x10000 && r <= 0x10FFFF:
		default:
			return false
		}
	}
	return true
}
