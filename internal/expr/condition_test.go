package expr

import "testing"

func TestCompileConditionRefusesNonBooleans(t *testing.T) {
	e := NewEngine()
	for _, src := range []string{
		`user.department == "Sales"`,
		`String.stringContains(user.email, "@example.com")`,
		`isMemberOfGroupName("Sales") OR user.isContractor`,
		`!user.isContractor`,
		`user.a ? true : user.b == "x"`,
	} {
		if _, err := e.CompileCondition(src); err != nil {
			t.Errorf("%s: %v", src, err)
		}
	}
	for src, pos := range map[string]Pos{
		`user.firstName + "x"`:           {1, 16},
		`String.toLowerCase(user.email)`: {1, 1},
		`user.a ? "x" : true`:            {1, 10},
		`"Sales"`:                        {1, 1},
	} {
		_, err := e.CompileCondition(src)
		xe, ok := err.(*Error)
		if !ok || xe.Kind != KindCompile || xe.Pos != pos {
			t.Errorf("%s: got %v, want a compile error at %v", src, err, pos)
		}
	}
	// The same source is still a valid value expression.
	if _, err := e.CompileExpression(`String.toLowerCase(user.email)`); err != nil {
		t.Fatal(err)
	}
}
