// Package lua evaluates Argo CD resource health scripts the way Argo CD's util/lua does
// (gopher-lua, same libraries with and without useOpenLibs, same conversion of the object, same
// `obj` and `actionParams` globals, same 1 s limit, same rules for the returned table, same
// deletion pre-check as gitops-engine's GetResourceHealth), but fast: a script is compiled once
// and, without open libs, VM states are pooled, where Argo CD parses the script and builds a
// fresh VM on every call.
//
// Reusing a state must not let one evaluation see another's leftovers. Without open libs a
// script can reach only the globals, the library tables (and the registry through them), the
// environments of Lua functions and, through setmetatable, the metatables of tables and of
// every basic type: all of that is snapshotted after set-up and restored after every
// evaluation, and a state whose evaluation failed is thrown away. With open libs the debug, io
// and os libraries reach far more (upvalues, locals, userdata, default files), so every such
// evaluation gets a fresh state, as in Argo CD.
package lua

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	glua "github.com/yuin/gopher-lua"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	luajson "layeh.com/gopher-json"
)

// Timeout is Argo CD's limit for one evaluation.
const Timeout = time.Second

// ErrTimeLimit is in the chain of the error of a script stopped at its time limit (the error's
// text stays gopher-lua's, as Argo CD shows it).
var ErrTimeLimit = errors.New("health script stopped at its time limit")

type timeLimitError struct{ err error }

func (e timeLimitError) Error() string   { return e.err.Error() }
func (e timeLimitError) Unwrap() []error { return []error{e.err, ErrTimeLimit} }

// Health statuses Argo CD accepts from a script (case-sensitive).
const (
	StatusHealthy     = "Healthy"
	StatusProgressing = "Progressing"
	StatusDegraded    = "Degraded"
	StatusSuspended   = "Suspended"
	StatusMissing     = "Missing"
	StatusUnknown     = "Unknown"
)

// Texts Argo CD produces itself.
const (
	MessagePendingDeletion = "Pending deletion"
	MessageInvalidStatus   = "Lua returned an invalid health status"
	// HookFinalizer exempts an object from the deletion pre-check (gitops-engine hook.HookFinalizer).
	HookFinalizer = "argocd.argoproj.io/hook-finalizer"
)

// result is what a script returned, as Argo CD decodes it. Both fields are empty when the script
// returned nil, an empty table or a table Argo CD cannot read as {status, message}. The VM hands
// out the two words; the verdict type is the caller's (healthcheck.Result).
type result struct {
	Status  string `json:"status,omitempty"`
	Message string `json:"message,omitempty"`
}

// ValidStatus reports whether Argo CD accepts s as a health status.
func ValidStatus(s string) bool {
	switch s {
	case StatusHealthy, StatusProgressing, StatusDegraded, StatusSuspended, StatusMissing, StatusUnknown:
		return true
	}
	return false
}

// Script is a compiled health script. Safe for concurrent use.
type Script struct {
	proto       *glua.FunctionProto
	useOpenLibs bool
	pool        sync.Pool // *state
}

// Compile parses source once. useOpenLibs opens every gopher-lua library, as
// `resource.customizations.useOpenLibs.<group>_<Kind>: "true"` does in Argo CD (not sandboxed).
// A syntax error is returned with the text Argo CD would report when it runs the script.
func Compile(source string, useOpenLibs bool) (*Script, error) {
	L := glua.NewState(glua.Options{SkipOpenLibs: true})
	defer L.Close()
	// Load is what Argo CD's DoString calls, so the chunk name and error texts are the same.
	fn, err := L.Load(strings.NewReader(source), "<string>")
	if err != nil {
		return nil, err
	}
	return &Script{proto: fn.Proto, useOpenLibs: useOpenLibs}, nil
}

// ResourceHealth is gitops-engine's GetResourceHealth with this script as the override: an object
// being deleted (without Argo CD's hook finalizer) is Progressing "Pending deletion" before any
// Lua runs; a script error gives Unknown with the error text, and the error.
func (s *Script) ResourceHealth(obj *unstructured.Unstructured) (status, message string, err error) {
	if PendingDeletion(obj) {
		return StatusProgressing, MessagePendingDeletion, nil
	}
	status, message, err = s.Health(obj)
	if err != nil {
		return StatusUnknown, err.Error(), err
	}
	return status, message, nil
}

// PendingDeletion is gitops-engine's deletion pre-check.
func PendingDeletion(obj *unstructured.Unstructured) bool {
	if obj.GetDeletionTimestamp() == nil {
		return false
	}
	for _, f := range obj.GetFinalizers() {
		if f == HookFinalizer {
			return false
		}
	}
	return true
}

// Health runs the script on obj like Argo CD's ExecuteHealthLua (no deletion pre-check), within
// Argo CD's time limit, and returns the status and message it gave, both empty when it gave none.
func (s *Script) Health(obj *unstructured.Unstructured) (status, message string, err error) {
	return s.HealthWithin(obj, Timeout)
}

// HealthWithin is Health with another time limit.
func (s *Script) HealthWithin(obj *unstructured.Unstructured, limit time.Duration) (status, message string, err error) {
	h, err := s.healthWithin(obj, limit)
	return h.Status, h.Message, err
}

func (s *Script) health(obj *unstructured.Unstructured) (result, error) {
	return s.healthWithin(obj, Timeout)
}

func (s *Script) healthWithin(obj *unstructured.Unstructured, limit time.Duration) (result, error) {
	if s.useOpenLibs {
		st, err := newState(true)
		if err != nil {
			return result{}, err
		}
		defer st.L.Close()
		return st.run(s.proto, obj.Object, limit)
	}
	st, err := s.get()
	if err != nil {
		return result{}, err
	}
	h, err := st.run(s.proto, obj.Object, limit)
	if err != nil {
		// The state may hold a half-run script's mess or a dead context: never reuse it.
		st.L.Close()
		return result{}, err
	}
	st.reset()
	s.pool.Put(st)
	return h, nil
}

func (s *Script) get() (*state, error) {
	if st, ok := s.pool.Get().(*state); ok {
		return st, nil
	}
	st, err := newState(false)
	if err != nil {
		return nil, err
	}
	st.snapshot()
	return st, nil
}

// state is one prepared gopher-lua VM plus what is needed to restore it.
type state struct {
	L     *glua.LState
	env   *glua.LTable
	snaps []tableSnap
	// the metatables of the basic types (setmetatable(1, mt) sets the one of every number)
	typeMetas []typeMeta
	// the environments of the Lua functions in the snapshotted tables (setfenv(f, t))
	fnEnvs []fnEnv
}

type typeMeta struct {
	sample glua.LValue
	meta   glua.LValue
}

type fnEnv struct {
	fn  *glua.LFunction
	env *glua.LTable
}

type tableSnap struct {
	t    *glua.LTable
	meta glua.LValue
	keys []glua.LValue
	vals []glua.LValue
	set  map[glua.LValue]struct{}
}

// newState opens the libraries exactly as Argo CD's runLua does: every gopher-lua library when
// useOpenLibs, then always package, base, table and the "safe os" (time, date), and a preload so
// `require("os")` returns that safe os.
func newState(useOpenLibs bool) (*state, error) {
	L := glua.NewState(glua.Options{SkipOpenLibs: !useOpenLibs})
	for _, lib := range []struct {
		name string
		fn   glua.LGFunction
	}{
		{glua.LoadLibName, glua.OpenPackage},
		{glua.BaseLibName, glua.OpenBase},
		{glua.TabLibName, glua.OpenTable},
		{glua.OsLibName, openSafeOs},
	} {
		if err := L.CallByParam(glua.P{Fn: L.NewFunction(lib.fn), NRet: 0, Protect: true}, glua.LString(lib.name)); err != nil {
			L.Close()
			return nil, fmt.Errorf("opening Lua library %s: %w", lib.name, err)
		}
	}
	L.PreloadModule(glua.OsLibName, safeOsLoader)
	return &state{L: L, env: L.Env}, nil
}

// snapshot records every table reachable from the globals, the registry and the string
// metatable (three levels deep: modules, package.loaded/preload and their entries), the
// metatables of the basic types and the environments of the Lua functions found.
func (st *state) snapshot() {
	L := st.L
	for _, v := range []glua.LValue{glua.LNil, glua.LTrue, glua.LNumber(0), glua.LString(""),
		L.NewFunction(func(*glua.LState) int { return 0 }), L, glua.LChannel(nil)} {
		st.typeMetas = append(st.typeMetas, typeMeta{sample: v, meta: L.GetMetatable(v)})
	}
	seen := map[*glua.LTable]bool{}
	var walk func(t *glua.LTable, depth int)
	walk = func(t *glua.LTable, depth int) {
		if t == nil || seen[t] {
			return
		}
		seen[t] = true
		sn := tableSnap{t: t, meta: t.Metatable, set: map[glua.LValue]struct{}{}}
		var children []*glua.LTable
		t.ForEach(func(k, v glua.LValue) {
			sn.keys = append(sn.keys, k)
			sn.vals = append(sn.vals, v)
			sn.set[k] = struct{}{}
			switch c := v.(type) {
			case *glua.LTable:
				children = append(children, c)
			case *glua.LFunction:
				if !c.IsG {
					st.fnEnvs = append(st.fnEnvs, fnEnv{fn: c, env: c.Env})
				}
			}
		})
		st.snaps = append(st.snaps, sn)
		if depth < 3 {
			for _, c := range children {
				walk(c, depth+1)
			}
		}
	}
	walk(st.env, 0)
	if reg, ok := st.L.Get(glua.RegistryIndex).(*glua.LTable); ok {
		walk(reg, 0)
	}
	if mt, ok := st.L.GetMetatable(glua.LString("")).(*glua.LTable); ok {
		walk(mt, 0)
	}
}

// reset undoes whatever a script did to the shared tables.
func (st *state) reset() {
	L := st.L
	L.SetTop(0)
	L.Env = st.env
	L.G.Global = st.env
	var extra []glua.LValue
	for i := range st.snaps {
		sn := &st.snaps[i]
		extra = extra[:0]
		sn.t.ForEach(func(k, _ glua.LValue) {
			if _, ok := sn.set[k]; !ok {
				extra = append(extra, k)
			}
		})
		for _, k := range extra {
			sn.t.RawSet(k, glua.LNil)
		}
		for j, k := range sn.keys {
			sn.t.RawSet(k, sn.vals[j])
		}
		sn.t.Metatable = sn.meta
	}
	for _, tm := range st.typeMetas {
		L.SetMetatable(tm.sample, tm.meta)
	}
	for _, fe := range st.fnEnvs {
		fe.fn.Env = fe.env
	}
}

func (st *state) run(proto *glua.FunctionProto, obj map[string]any, limit time.Duration) (result, error) {
	L := st.L
	L.SetTop(0)
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	L.SetContext(ctx)
	defer L.RemoveContext()

	L.SetGlobal("actionParams", L.CreateTable(0, 0))
	L.SetGlobal("obj", objectToLua(L, obj))
	L.Push(L.NewFunctionFromProto(proto))
	if err := L.PCall(0, glua.MultRet, nil); err != nil {
		// Argo CD strips gopher-lua's stack trace from runtime errors: they reach the user.
		var apiErr *glua.ApiError
		if errors.As(err, &apiErr) && apiErr.Type == glua.ApiErrorRun {
			apiErr.StackTrace = ""
			err = apiErr
		}
		if ctx.Err() == context.DeadlineExceeded {
			return result{}, timeLimitError{err}
		}
		return result{}, err
	}
	return readResult(L.Get(-1))
}

// objectToLua is ToLua for a whole object, less metadata.managedFields: the API server's
// bookkeeping of who set which field, often most of an object's nodes, which no health script
// reads (Argo CD passes it; a script that reads it is not one we ship). Building those tables
// was three quarters of an evaluation in `status -A` over thousands of objects.
func objectToLua(L *glua.LState, obj map[string]any) glua.LValue {
	meta, ok := obj["metadata"].(map[string]any)
	if !ok || meta["managedFields"] == nil {
		return ToLua(L, obj)
	}
	t := L.CreateTable(0, len(obj))
	for k, v := range obj {
		if v == nil || k == "metadata" {
			continue
		}
		t.RawSetString(k, ToLua(L, v))
	}
	m := L.CreateTable(0, len(meta))
	for k, v := range meta {
		if v == nil || k == "managedFields" {
			continue
		}
		m.RawSetString(k, ToLua(L, v))
	}
	t.RawSetString("metadata", m)
	return t
}

// ToLua converts a value of an unstructured object as Argo CD does: numbers become Lua numbers
// (ints included, json.Number becomes a string), a nil map value leaves the key absent and a nil
// array element is dropped (later elements shift down), types JSON cannot produce become nil.
func ToLua(L *glua.LState, v any) glua.LValue {
	switch c := v.(type) {
	case bool:
		return glua.LBool(c)
	case float64:
		return glua.LNumber(c)
	case string:
		return glua.LString(c)
	case json.Number:
		return glua.LString(c)
	case int:
		return glua.LNumber(c)
	case int32:
		return glua.LNumber(c)
	case int64:
		return glua.LNumber(c)
	case []any:
		t := L.CreateTable(len(c), 0)
		for _, item := range c {
			t.Append(ToLua(L, item))
		}
		return t
	case map[string]any:
		t := L.CreateTable(0, len(c))
		for k, item := range c {
			if item == nil {
				continue // RawSetH(k, nil) would only delete the absent key
			}
			t.RawSetString(k, ToLua(L, item))
		}
		return t
	}
	return glua.LNil
}

// readResult applies Argo CD's rules to the last value the script returned: nil -> empty health;
// a table is JSON-encoded (gopher-json) and decoded into {status, message}, where a type mismatch
// (an empty table encodes as an array; a non-string message) gives empty health and an unknown
// status gives Unknown "Lua returned an invalid health status"; anything else is an error.
func readResult(v glua.LValue) (result, error) {
	switch t := v.(type) {
	case *glua.LNilType:
		return result{}, nil
	case *glua.LTable:
		if h, ok := fastResult(t); ok {
			return validate(h), nil
		}
		b, err := luajson.Encode(t)
		if err != nil {
			return result{}, err
		}
		var h result
		if err := json.Unmarshal(b, &h); err != nil {
			var typeErr *json.UnmarshalTypeError
			if errors.As(err, &typeErr) {
				return result{}, nil
			}
			return result{}, err
		}
		return validate(h), nil
	}
	return result{}, fmt.Errorf("expect table output from Lua script, not %s", v.Type().String())
}

func validate(h result) result {
	if !ValidStatus(h.Status) {
		return result{Status: StatusUnknown, Message: MessageInvalidStatus}
	}
	return h
}

// fastResult reads the common {status = "...", message = "..."} table directly. It declines
// (ok=false) whenever the JSON round trip could differ: an empty table, a non-string key or value,
// invalid UTF-8, or a key that encoding/json would fold onto status/message.
func fastResult(t *glua.LTable) (h result, ok bool) {
	ok = true
	n := 0
	t.ForEach(func(k, v glua.LValue) {
		n++
		ks, kok := k.(glua.LString)
		vs, vok := v.(glua.LString)
		if !ok || !kok || !vok || !utf8.ValidString(string(vs)) {
			ok = false
			return
		}
		switch key := string(ks); key {
		case "status":
			h.Status = string(vs)
		case "message":
			h.Message = string(vs)
		default:
			if strings.EqualFold(key, "status") || strings.EqualFold(key, "message") || !utf8.ValidString(key) {
				ok = false
			}
		}
	})
	return h, ok && n > 0
}
