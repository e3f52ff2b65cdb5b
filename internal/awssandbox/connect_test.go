package awssandbox

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connect"
	ctypes "github.com/aws/aws-sdk-go-v2/service/connect/types"
)

func (e *env) createUser(c *connect.Client, username string, mutate func(*connect.CreateUserInput)) (*connect.CreateUserOutput, error) {
	in := &connect.CreateUserInput{
		InstanceId: aws.String(e.info.ConnectInstanceID), Username: aws.String(username),
		IdentityInfo:       &ctypes.UserIdentityInfo{FirstName: aws.String("Jane"), LastName: aws.String("Doe")},
		PhoneConfig:        &ctypes.UserPhoneConfig{PhoneType: ctypes.PhoneTypeSoftPhone},
		SecurityProfileIds: []string{e.info.SecurityProfileIDs["Agent"]},
		RoutingProfileId:   aws.String(e.info.RoutingProfileID),
	}
	if mutate != nil {
		mutate(in)
	}
	return c.CreateUser(ctx, in)
}

func TestConnectInstanceAndProfiles(t *testing.T) {
	e := newEnv(t, Options{})
	list, err := e.conn.ListInstances(ctx, &connect.ListInstancesInput{})
	if err != nil || len(list.InstanceSummaryList) != 1 || *list.InstanceSummaryList[0].Id != e.info.ConnectInstanceID {
		t.Fatalf("ListInstances = %+v, %v", list, err)
	}
	d, err := e.conn.DescribeInstance(ctx, &connect.DescribeInstanceInput{InstanceId: aws.String(e.info.ConnectInstanceID)})
	if err != nil || d.Instance.IdentityManagementType != ctypes.DirectoryTypeSaml || d.Instance.CreatedTime == nil ||
		d.Instance.InstanceStatus != ctypes.InstanceStatusActive {
		t.Fatalf("DescribeInstance = %+v, %v", d, err)
	}
	_, err = e.conn.DescribeInstance(ctx, &connect.DescribeInstanceInput{InstanceId: aws.String("00000000-0000-0000-0000-000000000000")})
	var nf *ctypes.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("unknown instance: %v", err)
	}
	sp, err := e.conn.ListSecurityProfiles(ctx, &connect.ListSecurityProfilesInput{InstanceId: aws.String(e.info.ConnectInstanceID)})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range sp.SecurityProfileSummaryList {
		names = append(names, *p.Name)
		if e.info.SecurityProfileIDs[*p.Name] != *p.Id {
			t.Fatalf("profile %s id %s not in Info", *p.Name, *p.Id)
		}
	}
	sort.Strings(names)
	if strings.Join(names, ",") != "Admin,Agent,CallCenterManager,QualityAnalyst" {
		t.Fatalf("security profiles %v", names)
	}
	rp, err := e.conn.ListRoutingProfiles(ctx, &connect.ListRoutingProfilesInput{InstanceId: aws.String(e.info.ConnectInstanceID)})
	if err != nil || len(rp.RoutingProfileSummaryList) != 1 || *rp.RoutingProfileSummaryList[0].Name != "Basic Routing Profile" ||
		*rp.RoutingProfileSummaryList[0].Id != e.info.RoutingProfileID {
		t.Fatalf("ListRoutingProfiles = %+v, %v", rp, err)
	}
}

func TestConnectUserCRUD(t *testing.T) {
	e := newEnv(t, Options{})
	inst := aws.String(e.info.ConnectInstanceID)
	created, err := e.createUser(e.conn, "jdoe@example.com", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(*created.UserArn, "/agent/"+*created.UserId) {
		t.Fatalf("UserArn %s", *created.UserArn)
	}
	_, err = e.createUser(e.conn, "jdoe@example.com", nil)
	var dup *ctypes.DuplicateResourceException
	if !errors.As(err, &dup) || dup.Message == nil {
		t.Fatalf("duplicate: %T %v", err, err)
	}
	got, err := e.conn.DescribeUser(ctx, &connect.DescribeUserInput{InstanceId: inst, UserId: created.UserId})
	if err != nil {
		t.Fatal(err)
	}
	u := got.User
	if *u.Username != "jdoe@example.com" || *u.IdentityInfo.FirstName != "Jane" || u.PhoneConfig.PhoneType != ctypes.PhoneTypeSoftPhone ||
		u.SecurityProfileIds[0] != e.info.SecurityProfileIDs["Agent"] || *u.RoutingProfileId != e.info.RoutingProfileID || u.LastModifiedTime == nil {
		t.Fatalf("DescribeUser = %+v", u)
	}
	// Updates.
	if _, err := e.conn.UpdateUserIdentityInfo(ctx, &connect.UpdateUserIdentityInfoInput{InstanceId: inst, UserId: created.UserId,
		IdentityInfo: &ctypes.UserIdentityInfo{FirstName: aws.String("Janet"), LastName: aws.String("Doe"), Email: aws.String("jdoe@example.com")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.conn.UpdateUserSecurityProfiles(ctx, &connect.UpdateUserSecurityProfilesInput{InstanceId: inst, UserId: created.UserId,
		SecurityProfileIds: []string{e.info.SecurityProfileIDs["Agent"], e.info.SecurityProfileIDs["QualityAnalyst"]}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.conn.UpdateUserRoutingProfile(ctx, &connect.UpdateUserRoutingProfileInput{InstanceId: inst, UserId: created.UserId,
		RoutingProfileId: aws.String(e.info.RoutingProfileID)}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.conn.UpdateUserPhoneConfig(ctx, &connect.UpdateUserPhoneConfigInput{InstanceId: inst, UserId: created.UserId,
		PhoneConfig: &ctypes.UserPhoneConfig{PhoneType: ctypes.PhoneTypeDeskPhone, DeskPhoneNumber: aws.String("+14155550100")}}); err != nil {
		t.Fatal(err)
	}
	_, err = e.conn.UpdateUserPhoneConfig(ctx, &connect.UpdateUserPhoneConfigInput{InstanceId: inst, UserId: created.UserId,
		PhoneConfig: &ctypes.UserPhoneConfig{PhoneType: ctypes.PhoneTypeDeskPhone}})
	apiErr(t, err, "InvalidParameterException", "")
	users := e.sb.ConnectUsers("")
	if len(users) != 1 || users[0].FirstName != "Janet" || len(users[0].SecurityProfileIDs) != 2 || users[0].PhoneType != "DESK_PHONE" {
		t.Fatalf("ConnectUsers = %+v", users)
	}

	// More users for listing and search.
	for i := 0; i < 4; i++ {
		if _, err := e.createUser(e.conn, fmt.Sprintf("agent%d", i), nil); err != nil {
			t.Fatal(err)
		}
	}
	var seen []string
	p := connect.NewListUsersPaginator(e.conn, &connect.ListUsersInput{InstanceId: inst, MaxResults: aws.Int32(2)})
	pages := 0
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, s := range out.UserSummaryList {
			seen = append(seen, *s.Username)
		}
	}
	if pages != 3 || strings.Join(seen, ",") != "agent0,agent1,agent2,agent3,jdoe@example.com" {
		t.Fatalf("ListUsers pages=%d %v", pages, seen)
	}
	_, err = e.conn.ListUsers(ctx, &connect.ListUsersInput{InstanceId: inst, MaxResults: aws.Int32(1001)})
	apiErr(t, err, "InvalidParameterException", "")
	found, err := e.conn.SearchUsers(ctx, &connect.SearchUsersInput{InstanceId: inst, SearchCriteria: &ctypes.UserSearchCriteria{
		StringCondition: &ctypes.StringCondition{FieldName: aws.String("Username"), Value: aws.String("jdoe@example.com"), ComparisonType: ctypes.StringComparisonTypeExact}}})
	if err != nil || len(found.Users) != 1 || *found.Users[0].Id != *created.UserId || *found.ApproximateTotalCount != 1 {
		t.Fatalf("SearchUsers = %+v, %v", found, err)
	}

	if _, err := e.conn.DeleteUser(ctx, &connect.DeleteUserInput{InstanceId: inst, UserId: created.UserId}); err != nil {
		t.Fatal(err)
	}
	_, err = e.conn.DescribeUser(ctx, &connect.DescribeUserInput{InstanceId: inst, UserId: created.UserId})
	var nf *ctypes.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("deleted user: %v", err)
	}
	if e.sb.Calls("CreateUser") != 6 || e.sb.Calls("DeleteUser") != 1 {
		t.Fatalf("call counts %v", e.sb.CallCounts())
	}
}

func TestConnectCreateUserValidation(t *testing.T) {
	e := newEnv(t, Options{})
	many := make([]string, 11)
	for i := range many {
		many[i] = e.info.SecurityProfileIDs["Agent"]
	}
	tests := []struct {
		name     string
		username string
		mutate   func(*connect.CreateUserInput)
		code     string
	}{
		{"one char", "a", nil, "InvalidParameterException"},
		{"space", "jane doe", nil, "InvalidParameterException"},
		{"65 chars", strings.Repeat("a", 65), nil, "InvalidParameterException"},
		{"at without domain dot", "testuser@example", nil, "InvalidParameterException"},
		{"two ats", "a@b@example.com", nil, "InvalidParameterException"},
		{"password on SAML", "pw-user", func(in *connect.CreateUserInput) { in.Password = aws.String("Passw0rd!") }, "InvalidRequestException"},
		{"directory user on SAML", "dir-user", func(in *connect.CreateUserInput) { in.DirectoryUserId = aws.String("d-123") }, "InvalidRequestException"},
		{"no security profile", "nosp", func(in *connect.CreateUserInput) { in.SecurityProfileIds = []string{} }, "InvalidParameterException"},
		{"eleven security profiles", "manysp", func(in *connect.CreateUserInput) { in.SecurityProfileIds = many }, "InvalidParameterException"},
		{"unknown security profile", "badsp", func(in *connect.CreateUserInput) { in.SecurityProfileIds = []string{"nope"} }, "InvalidParameterException"},
		{"unknown routing profile", "badrp", func(in *connect.CreateUserInput) { in.RoutingProfileId = aws.String("nope") }, "InvalidParameterException"},
		{"desk phone without number", "desk", func(in *connect.CreateUserInput) {
			in.PhoneConfig = &ctypes.UserPhoneConfig{PhoneType: ctypes.PhoneTypeDeskPhone}
		}, "InvalidParameterException"},
		{"desk phone not E.164", "desk2", func(in *connect.CreateUserInput) {
			in.PhoneConfig = &ctypes.UserPhoneConfig{PhoneType: ctypes.PhoneTypeDeskPhone, DeskPhoneNumber: aws.String("555-0100")}
		}, "InvalidParameterException"},
		{"phone type missing", "nophone", func(in *connect.CreateUserInput) { in.PhoneConfig = &ctypes.UserPhoneConfig{} }, "InvalidParameterException"},
		{"no last name on SAML", "noname", func(in *connect.CreateUserInput) {
			in.IdentityInfo = &ctypes.UserIdentityInfo{FirstName: aws.String("Jane")}
		}, "InvalidParameterException"},
		{"unknown instance", "x-user", func(in *connect.CreateUserInput) { in.InstanceId = aws.String("nope") }, "ResourceNotFoundException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.createUser(e.conn, tt.username, tt.mutate)
			apiErr(t, err, tt.code, "")
		})
	}
	for _, ok := range []string{"jdoe@example.com", "j.doe_1-x", "ab"} {
		if _, err := e.createUser(e.conn, ok, nil); err != nil {
			t.Fatalf("%s: %v", ok, err)
		}
	}
	if n := len(e.sb.ConnectUsers("")); n != 3 {
		t.Fatalf("%d users after validation failures", n)
	}
}

func TestConnectUserQuota(t *testing.T) {
	e := newEnv(t, Options{UserQuota: 2})
	c := e.connectNoRetry(e.cfg)
	for _, n := range []string{"u1", "u2"} {
		if _, err := e.createUser(c, n, nil); err != nil {
			t.Fatal(err)
		}
	}
	_, err := e.createUser(c, "u3", nil)
	var le *ctypes.LimitExceededException
	if !errors.As(err, &le) {
		t.Fatalf("quota: %T %v", err, err)
	}
}

func TestConnectThrottling(t *testing.T) {
	e := newEnv(t, Options{})
	e.sb.SetConnectThrottle(2, 5)
	c := e.connectNoRetry(e.cfg)
	var mu sync.Mutex
	throttled, ok := 0, 0
	var wg sync.WaitGroup
	for i := 0; i < 12; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := c.ListUsers(ctx, &connect.ListUsersInput{InstanceId: aws.String(e.info.ConnectInstanceID)})
			mu.Lock()
			defer mu.Unlock()
			var te *ctypes.ThrottlingException
			switch {
			case err == nil:
				ok++
			case errors.As(err, &te):
				throttled++
			default:
				t.Errorf("unexpected error %v", err)
			}
		}()
	}
	wg.Wait()
	// A burst of 12 within well under a second: the 5 in the bucket pass,
	// at most one more refills.
	if ok < 5 || ok > 6 || throttled != 12-ok || e.sb.Throttled() != throttled {
		t.Fatalf("ok=%d throttled=%d sandbox=%d", ok, throttled, e.sb.Throttled())
	}
	// The bucket is shared by every Connect API.
	_, err := c.ListSecurityProfiles(ctx, &connect.ListSecurityProfilesInput{InstanceId: aws.String(e.info.ConnectInstanceID)})
	apiErr(t, err, "ThrottlingException", "Rate exceeded")
}

func TestConnectHeavyThrottleWithSDKRetries(t *testing.T) {
	e := newEnv(t, Options{HeavyThrottle: true})
	// Heavy throttle is 0.2 req/s with a burst of 1: the first call passes,
	// an immediate second one is refused.
	if _, err := e.conn.ListUsers(ctx, &connect.ListUsersInput{InstanceId: aws.String(e.info.ConnectInstanceID)}); err != nil {
		t.Fatal(err)
	}
	_, err := e.connectNoRetry(e.cfg).ListUsers(ctx, &connect.ListUsersInput{InstanceId: aws.String(e.info.ConnectInstanceID)})
	apiErr(t, err, "ThrottlingException", "")
}
