// Benchmarks of Porcupine on Knossos's cas-register histories, for dsim's side-by-side
// benchmark (scripts/bench-checker-porcupine.sh copies this file into a temporary checkout of
// Porcupine; it is dsim's code, not Porcupine's). The histories come as `.ops` files written
// by knossos_to_ops.py, in the folder named by DSIM_KNOSSOS_OPS; each is checked under
// Knossos's cas-register model, starting from 0, and its verdict compared with the file's.
package porcupine

import (
	"bufio"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

type dsimCasInput struct {
	f    string // read, write or cas
	a, b int
}

type dsimCasOutput struct {
	value   int
	any     bool // Knossos's nil read: matches every state
	unknown bool // did not complete: may or may not have taken effect
}

var dsimCasModel = Model{
	Init: func() interface{} { return 0 },
	Step: func(state, input, output interface{}) (bool, interface{}) {
		st := state.(int)
		in := input.(dsimCasInput)
		out := output.(dsimCasOutput)
		switch in.f {
		case "read":
			return out.unknown || out.any || st == out.value, st
		case "write":
			return true, in.a
		default:
			if st == in.a {
				return true, in.b
			}
			return out.unknown, st
		}
	},
}

func dsimReadOps(b *testing.B, path string) ([]Operation, bool) {
	file, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer file.Close()
	scanner := bufio.NewScanner(file)
	scanner.Scan()
	expect := strings.Fields(scanner.Text())[1] == "linearizable"
	var ops []Operation
	for id := 0; scanner.Scan(); id++ {
		f := strings.Fields(scanner.Text())
		num := func(s string) int {
			n, err := strconv.Atoi(s)
			if err != nil {
				b.Fatalf("%s: %q is not a number", path, s)
			}
			return n
		}
		in := dsimCasInput{f: f[2], a: num(f[3]), b: num(f[4])}
		out := dsimCasOutput{unknown: f[5] == "unknown", any: f[5] == "any"}
		if f[2] == "read" && !out.unknown && !out.any {
			out.value = num(f[5])
		}
		ops = append(ops, Operation{ClientId: id, Input: in, Call: int64(num(f[0])), Output: out, Return: int64(num(f[1]))})
	}
	return ops, expect
}

func BenchmarkDsimKnossos(b *testing.B) {
	dir := os.Getenv("DSIM_KNOSSOS_OPS")
	if dir == "" {
		b.Skip("DSIM_KNOSSOS_OPS is not set")
	}
	paths, _ := filepath.Glob(filepath.Join(dir, "*.ops"))
	sort.Strings(paths)
	for _, path := range paths {
		ops, expect := dsimReadOps(b, path)
		name := strings.TrimSuffix(filepath.Base(path), ".ops")
		b.Run(name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if CheckOperations(dsimCasModel, ops) != expect {
					b.Fatalf("%s: expected linearizable=%t", name, expect)
				}
			}
		})
	}
}
