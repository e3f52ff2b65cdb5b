package expr

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Okta's Time functions print ISO 8601 with milliseconds.
const (
	isoUTC    = "2006-01-02T15:04:05.000Z"
	isoOffset = "2006-01-02T15:04:05.000-07:00"
	maxFormat = 256
)

func loadZone(fn, name string) (*time.Location, error) {
	switch strings.ToUpper(name) {
	case "UTC", "GMT", "Z":
		return time.UTC, nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil || name == "" || name == "Local" {
		return nil, &Error{Kind: KindRuntime, Msg: fmt.Sprintf("%s: unknown time zone %q", fn, name)}
	}
	return loc, nil
}

// timeNow is Time.now([timeZoneId[, jodaFormat]]).
func timeNow(l *limits, c *evalCtx, a []any) (any, error) {
	const fn = "Time.now"
	t := c.now()
	if len(a) == 0 || a[0] == nil {
		if len(a) < 2 {
			return t.UTC().Format(isoUTC), nil
		}
	}
	loc := time.UTC
	if len(a) > 0 {
		switch z := a[0].(type) {
		case *time.Location: // resolved when the zone is a literal
			loc = z
		case nil:
		default:
			name, _, err := str(fn, 0, z)
			if err != nil {
				return nil, err
			}
			if loc, err = loadZone(fn, name); err != nil {
				return nil, err
			}
		}
	}
	t = t.In(loc)
	if len(a) < 2 || a[1] == nil {
		if loc == time.UTC {
			return t.Format(isoUTC), nil
		}
		return t.Format(isoOffset), nil
	}
	pattern, _, err := str(fn, 1, a[1])
	if err != nil {
		return nil, err
	}
	return formatJoda(fn, t, pattern)
}

// formatJoda formats t with a Joda-Time pattern (the subset Okta documents:
// y Y M d D E e a h H k K m s S z Z and quoted text).
func formatJoda(fn string, t time.Time, pattern string) (string, error) {
	if len(pattern) > maxFormat {
		return "", &Error{Kind: KindLimit, Msg: fmt.Sprintf("%s: format longer than %d bytes", fn, maxFormat)}
	}
	var b strings.Builder
	pad := func(v, n int) {
		s := strconv.Itoa(v)
		for i := len(s); i < n; i++ {
			b.WriteByte('0')
		}
		b.WriteString(s)
	}
	for i := 0; i < len(pattern); {
		c := pattern[i]
		if c == '\'' {
			j := i + 1
			if j < len(pattern) && pattern[j] == '\'' {
				b.WriteByte('\'')
				i += 2
				continue
			}
			for j < len(pattern) {
				if pattern[j] == '\'' {
					if j+1 < len(pattern) && pattern[j+1] == '\'' {
						b.WriteByte('\'')
						j += 2
						continue
					}
					break
				}
				b.WriteByte(pattern[j])
				j++
			}
			if j >= len(pattern) {
				return "", &Error{Kind: KindRuntime, Msg: fn + ": unterminated quote in format"}
			}
			i = j + 1
			continue
		}
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			b.WriteByte(c)
			i++
			continue
		}
		n := 1
		for i+n < len(pattern) && pattern[i+n] == c {
			n++
		}
		i += n
		switch c {
		case 'y', 'Y', 'x':
			if n == 2 {
				pad(t.Year()%100, 2)
			} else {
				pad(t.Year(), n)
			}
		case 'M':
			switch {
			case n >= 4:
				b.WriteString(t.Month().String())
			case n == 3:
				b.WriteString(t.Month().String()[:3])
			default:
				pad(int(t.Month()), n)
			}
		case 'd':
			pad(t.Day(), n)
		case 'D':
			pad(t.YearDay(), n)
		case 'E':
			if n >= 4 {
				b.WriteString(t.Weekday().String())
			} else {
				b.WriteString(t.Weekday().String()[:3])
			}
		case 'e':
			wd := int(t.Weekday())
			if wd == 0 {
				wd = 7
			}
			pad(wd, n)
		case 'a':
			if t.Hour() < 12 {
				b.WriteString("AM")
			} else {
				b.WriteString("PM")
			}
		case 'h':
			h := t.Hour() % 12
			if h == 0 {
				h = 12
			}
			pad(h, n)
		case 'K':
			pad(t.Hour()%12, n)
		case 'k':
			h := t.Hour()
			if h == 0 {
				h = 24
			}
			pad(h, n)
		case 'H':
			pad(t.Hour(), n)
		case 'm':
			pad(t.Minute(), n)
		case 's':
			pad(t.Second(), n)
		case 'S':
			frac := fmt.Sprintf("%09d", t.Nanosecond())
			if n <= 9 {
				b.WriteString(frac[:n])
			} else {
				b.WriteString(frac)
				b.WriteString(strings.Repeat("0", n-9))
			}
		case 'z':
			name, _ := t.Zone()
			b.WriteString(name)
		case 'Z':
			switch n {
			case 1:
				b.WriteString(t.Format("-0700"))
			case 2:
				b.WriteString(t.Format("-07:00"))
			default:
				b.WriteString(t.Location().String())
			}
		default:
			return "", &Error{Kind: KindRuntime, Msg: fmt.Sprintf("%s: unsupported format letter %q", fn, string(c))}
		}
	}
	return b.String(), nil
}

// parseIso8601 accepts RFC 3339 with or without fractional seconds.
func parseIso8601(fn string, x any) (time.Time, bool, error) {
	s, ok, err := str(fn, 0, x)
	if err != nil || !ok {
		return time.Time{}, false, err
	}
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(s))
	if err != nil {
		return time.Time{}, false, argError("%s: %q is not an ISO 8601 time", fn, s)
	}
	return t, true, nil
}

func wholeNumber(fn string, x any) (int64, bool, error) {
	switch v := normalize(x, 0).(type) {
	case nil:
		return 0, false, nil
	case int64:
		return v, true, nil
	case float64:
		if v != math.Trunc(v) || math.Abs(v) > 1<<62 {
			return 0, false, argError("%s: %v is not a whole number", fn, v)
		}
		return int64(v), true, nil
	case string:
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			return 0, false, argError("%s: %q is not a whole number", fn, v)
		}
		return n, true, nil
	}
	return 0, false, argError("%s: argument 1 must be a number or string, got %s", fn, typeName(x))
}

// Unix timestamps are seconds since 1970; Windows (LDAP) timestamps are
// 100-nanosecond intervals since 1601-01-01 UTC.
const windowsEpochOffset = 11644473600 // seconds from 1601 to 1970

func fromUnixToIso8601(_ *limits, _ *evalCtx, a []any) (any, error) {
	n, ok, err := wholeNumber("Time.fromUnixToIso8601", a[0])
	if err != nil || !ok {
		return nil, err
	}
	if n > 1<<40 || n < -(1<<40) {
		return nil, argError("Time.fromUnixToIso8601: %d is out of range", n)
	}
	return time.Unix(n, 0).UTC().Format(isoUTC), nil
}

func fromIso8601ToUnix(_ *limits, _ *evalCtx, a []any) (any, error) {
	t, ok, err := parseIso8601("Time.fromIso8601ToUnix", a[0])
	if err != nil || !ok {
		return nil, err
	}
	return strconv.FormatInt(t.Unix(), 10), nil
}

func fromWindowsToIso8601(_ *limits, _ *evalCtx, a []any) (any, error) {
	n, ok, err := wholeNumber("Time.fromWindowsToIso8601", a[0])
	if err != nil || !ok {
		return nil, err
	}
	if n < 0 {
		return nil, argError("Time.fromWindowsToIso8601: %d is out of range", n)
	}
	sec := n/10_000_000 - windowsEpochOffset
	nsec := (n % 10_000_000) * 100
	return time.Unix(sec, nsec).UTC().Format(isoUTC), nil
}

func fromIso8601ToWindows(_ *limits, _ *evalCtx, a []any) (any, error) {
	t, ok, err := parseIso8601("Time.fromIso8601ToWindows", a[0])
	if err != nil || !ok {
		return nil, err
	}
	sec := t.Unix() + windowsEpochOffset
	if sec < 0 || sec > math.MaxInt64/10_000_000-1 {
		return nil, argError("Time.fromIso8601ToWindows: time out of range")
	}
	return strconv.FormatInt(sec*10_000_000+int64(t.Nanosecond()/100), 10), nil
}
