package expr_test

import (
	"fmt"

	"github.com/gatehouse/gatehouse/internal/expr"
)

func Example() {
	eng := expr.NewEngine()
	env := expr.Env{
		User:    map[string]any{"login": "Ann.Lee@example.com", "firstName": "Ann", "lastName": "Lee"},
		AppUser: map[string]any{"samlRoles": []string{"arn:aws:iam::123456789012:role/Admin"}},
		Org:     map[string]any{"externalKey": "exk1"},
		Groups:  []string{"aws#123456789012#Admin", "Engineering"},
	}

	nameID, _ := eng.Compile("${user.userName}")
	fmt.Println(nameID.String(env))

	session, _ := eng.Compile(`String.toLowerCase(String.substringBefore(user.login, "@"))`)
	fmt.Println(session.String(env))

	issuer, _ := eng.Compile("http://www.okta.com/${org.externalKey}")
	fmt.Println(issuer.String(env))

	roles, _ := eng.Compile(`isMemberOfGroupNameStartsWith("aws#") ? appuser.samlRoles : {}`)
	fmt.Println(roles.Strings(env))

	_, err := eng.Compile(`String.toLowercase(user.login)`)
	fmt.Println(err)
	// Output:
	// Ann.Lee@example.com <nil>
	// ann.lee <nil>
	// http://www.okta.com/exk1 <nil>
	// [arn:aws:iam::123456789012:role/Admin] <nil>
	// unknown function String.toLowercase at 1:8 (did you mean String.toLowerCase?)
}
