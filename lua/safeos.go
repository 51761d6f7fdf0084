package lua

import (
	"strconv"
	"strings"
	"time"

	glua "github.com/yuin/gopher-lua"
)

// Argo CD gives scripts a reduced os library with only time and date. Its opener registers the
// functions under the module name it is called with... which is the table library's, so in Argo
// CD `table.time` and `table.date` exist and the global `os` stays absent unless open libs are on;
// `require("os")` returns the reduced library through package.preload. We reproduce both.
var safeOsFuncs = map[string]glua.LGFunction{"time": osTime, "date": osDate}

func openSafeOs(L *glua.LState) int {
	L.Push(L.RegisterModule(glua.TabLibName, safeOsFuncs))
	return 1
}

func safeOsLoader(L *glua.LState) int {
	L.Push(L.SetFuncs(L.NewTable(), safeOsFuncs))
	return 1
}

// osTime: the current Unix time, or the time of a {year, month, day, hour, min, sec} table in
// local time (hour defaults to 12, as in C).
func osTime(L *glua.LState) int {
	if L.GetTop() == 0 {
		L.Push(glua.LNumber(time.Now().Unix()))
		return 1
	}
	t := L.CheckTable(1)
	field := func(name string, def int) int {
		if n, ok := t.RawGetString(name).(glua.LNumber); ok {
			return int(n)
		}
		return def
	}
	d := time.Date(field("year", -1), time.Month(field("month", -1)), field("day", -1),
		field("hour", 12), field("min", 0), field("sec", 0), 0, time.Local)
	L.Push(glua.LNumber(d.Unix()))
	return 1
}

// osDate formats a time with a strftime subset ("!" prefix for UTC, "*t" for a table).
func osDate(L *glua.LState) int {
	t := time.Now()
	format := "%c"
	if L.GetTop() >= 1 {
		format = L.CheckString(1)
		if strings.HasPrefix(format, "!") {
			t = time.Now().UTC()
			format = strings.TrimLeft(format, "!")
		}
		if L.GetTop() >= 2 {
			t = time.Unix(L.CheckInt64(2), 0)
		}
		if strings.HasPrefix(format, "*t") {
			tb := L.NewTable()
			for k, v := range map[string]int{"year": t.Year(), "month": int(t.Month()), "day": t.Day(),
				"hour": t.Hour(), "min": t.Minute(), "sec": t.Second(), "wday": int(t.Weekday()) + 1, "yday": 0} {
				tb.RawSetString(k, glua.LNumber(v))
			}
			tb.RawSetString("isdst", glua.LFalse)
			L.Push(tb)
			return 1
		}
	}
	L.Push(glua.LString(strftime(t, format)))
	return 1
}

var strftimeLayouts = map[byte]string{
	'a': "mon", 'A': "Monday", 'b': "Jan", 'B': "January", 'c': "02 Jan 06 15:04 MST", 'd': "02",
	'F': "2006-01-02", 'H': "15", 'I': "03", 'm': "01", 'M': "04", 'p': "PM", 'P': "pm", 'S': "05",
	'x': "15/04/05", 'X': "15:04:05", 'y': "06", 'Y': "2006", 'z': "-0700", 'Z': "MST",
}

func strftime(t time.Time, format string) string {
	var b strings.Builder
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' || i == len(format)-1 {
			b.WriteByte(c)
			continue
		}
		i++
		c = format[i]
		switch {
		case c == '%':
			b.WriteByte('%')
		case c == 'w':
			b.WriteString(strconv.Itoa(int(t.Weekday())))
		case strftimeLayouts[c] != "":
			b.WriteString(t.Format(strftimeLayouts[c]))
		default:
			b.WriteByte('%')
			b.WriteByte(c)
		}
	}
	return b.String()
}
