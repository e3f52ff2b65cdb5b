package policy

import (
	"errors"
	"strconv"
	"strings"
	"time"
)

// ParseDuration reads an ISO 8601 duration of days and time (PnDTnHnMnS,
// whole numbers, as Okta's reauthenticateIn uses: "PT2H", "PT30M", "P1D",
// "PT0S"). Years, months and weeks are refused: they have no fixed length.
func ParseDuration(s string) (time.Duration, error) {
	bad := errors.New("must be an ISO 8601 duration such as PT2H or PT30M")
	if len(s) < 3 || len(s) > 32 || s[0] != 'P' {
		return 0, bad
	}
	rest := s[1:]
	var total time.Duration
	inTime := false
	seen := ""
	for rest != "" {
		if rest[0] == 'T' {
			if inTime || len(rest) == 1 {
				return 0, bad
			}
			inTime = true
			rest = rest[1:]
			continue
		}
		i := 0
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		if i == 0 || i == len(rest) || i > 9 {
			return 0, bad
		}
		n, err := strconv.Atoi(rest[:i])
		if err != nil {
			return 0, bad
		}
		unit := rest[i]
		var d time.Duration
		switch {
		case !inTime && unit == 'D':
			d = 24 * time.Hour
		case inTime && unit == 'H':
			d = time.Hour
		case inTime && unit == 'M':
			d = time.Minute
		case inTime && unit == 'S':
			d = time.Second
		default:
			return 0, bad
		}
		key := string(unit)
		if inTime {
			key = "T" + key
		}
		if strings.Contains(seen, key+",") {
			return 0, bad
		}
		seen += key + ","
		total += time.Duration(n) * d
		if total > 100*365*24*time.Hour {
			return 0, bad
		}
		rest = rest[i+1:]
	}
	if seen == "" {
		return 0, bad
	}
	return total, nil
}

// FormatDuration writes a duration as ISO 8601 (whole seconds), the form
// ParseDuration reads.
func FormatDuration(d time.Duration) string {
	if d <= 0 {
		return "PT0S"
	}
	var b strings.Builder
	b.WriteByte('P')
	days := d / (24 * time.Hour)
	d -= days * 24 * time.Hour
	if days > 0 {
		b.WriteString(strconv.FormatInt(int64(days), 10) + "D")
	}
	if d > 0 {
		b.WriteByte('T')
		for _, u := range []struct {
			d time.Duration
			c string
		}{{time.Hour, "H"}, {time.Minute, "M"}, {time.Second, "S"}} {
			if n := d / u.d; n > 0 {
				b.WriteString(strconv.FormatInt(int64(n), 10) + u.c)
				d -= n * u.d
			}
		}
	}
	return b.String()
}
