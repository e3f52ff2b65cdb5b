package amazonconnect

import (
	"context"
	"fmt"
	"strings"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/aws/aws-sdk-go-v2/service/connect/types"

	"github.com/gatehouse/gatehouse/internal/errs"
)

// Options configures a Client.
type Options struct {
	Region     string // required: the instance's region
	InstanceID string // required
	// Static credentials of an IAM principal allowed the Connect user APIs.
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
	// Endpoint replaces the Connect endpoint (BaseEndpoint). Only for the
	// Gatehouse AWS sandbox and tests.
	Endpoint string
	// MaxAttempts is the SDK's own attempts per call. The default, 1,
	// disables the SDK's retries: the job engine retries with its own
	// backoff and knows about every attempt.
	MaxAttempts int
	// PageSize is MaxResults of the List calls; default 1000 (the maximum).
	PageSize int32
	// Limiter, when set, is waited on (with LimitKey) before every call,
	// pages included. LimitKey should be Key(accountID, Region); by default
	// it is Key(AccessKeyID, Region).
	Limiter  *Limiter
	LimitKey string
}

// Client calls the Amazon Connect user-management API for one instance.
type Client struct {
	api  *connect.Client
	opts Options
}

// New returns a Client.
func New(o Options) (*Client, error) {
	if o.Region == "" || o.InstanceID == "" {
		return nil, fmt.Errorf("amazonconnect: region and instance ID are required")
	}
	if o.AccessKeyID == "" || o.SecretAccessKey == "" {
		return nil, fmt.Errorf("amazonconnect: access key ID and secret access key are required")
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 1
	}
	if o.PageSize <= 0 || o.PageSize > 1000 {
		o.PageSize = 1000
	}
	if o.LimitKey == "" {
		o.LimitKey = Key(o.AccessKeyID, o.Region)
	}
	cfg := awssdk.Config{Region: o.Region, Credentials: credentials.NewStaticCredentialsProvider(o.AccessKeyID, o.SecretAccessKey, o.SessionToken)}
	n := o.MaxAttempts
	if n == 1 {
		cfg.Retryer = func() awssdk.Retryer { return awssdk.NopRetryer{} }
	} else {
		cfg.Retryer = func() awssdk.Retryer {
			return retry.NewStandard(func(so *retry.StandardOptions) { so.MaxAttempts = n })
		}
	}
	api := connect.NewFromConfig(cfg, func(co *connect.Options) {
		if o.Endpoint != "" {
			co.BaseEndpoint = awssdk.String(o.Endpoint)
		}
	})
	return &Client{api: api, opts: o}, nil
}

func (c *Client) wait(ctx context.Context) error {
	if c.opts.Limiter == nil {
		return nil
	}
	return c.opts.Limiter.Wait(ctx, c.opts.LimitKey)
}

func (c *Client) instance() *string { return awssdk.String(c.opts.InstanceID) }

// Profile is a security or routing profile.
type Profile struct {
	ID   string
	Arn  string
	Name string
}

// ListSecurityProfiles lists the instance's security profiles (all pages).
func (c *Client) ListSecurityProfiles(ctx context.Context) ([]Profile, error) {
	var out []Profile
	var next *string
	for {
		if err := c.wait(ctx); err != nil {
			return nil, err
		}
		page, err := c.api.ListSecurityProfiles(ctx, &connect.ListSecurityProfilesInput{InstanceId: c.instance(), MaxResults: awssdk.Int32(c.opts.PageSize), NextToken: next})
		if err != nil {
			return nil, classify("ListSecurityProfiles", err)
		}
		for _, p := range page.SecurityProfileSummaryList {
			out = append(out, Profile{ID: awssdk.ToString(p.Id), Arn: awssdk.ToString(p.Arn), Name: awssdk.ToString(p.Name)})
		}
		if next = page.NextToken; next == nil || *next == "" {
			return out, nil
		}
	}
}

// ListRoutingProfiles lists the instance's routing profiles (all pages).
func (c *Client) ListRoutingProfiles(ctx context.Context) ([]Profile, error) {
	var out []Profile
	var next *string
	for {
		if err := c.wait(ctx); err != nil {
			return nil, err
		}
		page, err := c.api.ListRoutingProfiles(ctx, &connect.ListRoutingProfilesInput{InstanceId: c.instance(), MaxResults: awssdk.Int32(c.opts.PageSize), NextToken: next})
		if err != nil {
			return nil, classify("ListRoutingProfiles", err)
		}
		for _, p := range page.RoutingProfileSummaryList {
			out = append(out, Profile{ID: awssdk.ToString(p.Id), Arn: awssdk.ToString(p.Arn), Name: awssdk.ToString(p.Name)})
		}
		if next = page.NextToken; next == nil || *next == "" {
			return out, nil
		}
	}
}

// ProfileIDs maps profile names (or IDs, passed through) to IDs. Names
// match exactly first, then case-insensitively; an unknown or ambiguous
// name is an errs Invalid error naming it and the choices.
func ProfileIDs(profiles []Profile, namesOrIDs ...string) ([]string, error) {
	var out []string
	for _, n := range namesOrIDs {
		id, err := profileID(profiles, n)
		if err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, nil
}

func profileID(profiles []Profile, n string) (string, error) {
	for _, p := range profiles {
		if p.ID == n || p.Arn == n || p.Name == n {
			return p.ID, nil
		}
	}
	var folded []Profile
	for _, p := range profiles {
		if strings.EqualFold(p.Name, n) {
			folded = append(folded, p)
		}
	}
	if len(folded) == 1 {
		return folded[0].ID, nil
	}
	names := make([]string, len(profiles))
	for i, p := range profiles {
		names[i] = p.Name
	}
	return "", errs.Invalidf("Amazon Connect has no profile named %q; choose one of: %s.", n, strings.Join(names, ", "))
}

// UserSummary is one entry of ListUsers.
type UserSummary struct {
	ID           string
	Arn          string
	Username     string
	LastModified time.Time
}

// ListAllUsers lists every user of the instance (all pages), for
// reconciliation.
func (c *Client) ListAllUsers(ctx context.Context) ([]UserSummary, error) {
	var out []UserSummary
	var next *string
	for {
		if err := c.wait(ctx); err != nil {
			return nil, err
		}
		page, err := c.api.ListUsers(ctx, &connect.ListUsersInput{InstanceId: c.instance(), MaxResults: awssdk.Int32(c.opts.PageSize), NextToken: next})
		if err != nil {
			return nil, classify("ListUsers", err)
		}
		for _, u := range page.UserSummaryList {
			out = append(out, UserSummary{ID: awssdk.ToString(u.Id), Arn: awssdk.ToString(u.Arn), Username: awssdk.ToString(u.Username),
				LastModified: awssdk.ToTime(u.LastModifiedTime)})
		}
		if next = page.NextToken; next == nil || *next == "" {
			return out, nil
		}
	}
}

// FindUser pages through ListUsers for the user whose Username equals
// username exactly (Connect usernames are case-sensitive at sign-in).
func (c *Client) FindUser(ctx context.Context, username string) (UserSummary, bool, error) {
	var next *string
	for {
		if err := c.wait(ctx); err != nil {
			return UserSummary{}, false, err
		}
		page, err := c.api.ListUsers(ctx, &connect.ListUsersInput{InstanceId: c.instance(), MaxResults: awssdk.Int32(c.opts.PageSize), NextToken: next})
		if err != nil {
			return UserSummary{}, false, classify("ListUsers", err)
		}
		for _, u := range page.UserSummaryList {
			if awssdk.ToString(u.Username) == username {
				return UserSummary{ID: awssdk.ToString(u.Id), Arn: awssdk.ToString(u.Arn), Username: username,
					LastModified: awssdk.ToTime(u.LastModifiedTime)}, true, nil
			}
		}
		if next = page.NextToken; next == nil || *next == "" {
			return UserSummary{}, false, nil
		}
	}
}

// Created is the result of CreateUser.
type Created struct {
	UserID  string
	UserArn string
	// Linked is true when the user already existed (DuplicateResource) and
	// was found by username instead of created: link, never duplicate.
	Linked bool
}

// invalidSpec reports a spec that fails Validate as a permanent error.
func invalidSpec(op string, fe []errs.FieldError) error {
	return &Error{Kind: Invalid, Op: op, Err: errs.InvalidFields("The Amazon Connect user is not valid.", fe...)}
}

// CreateUser creates the user (after normalizing and validating the spec;
// a spec Validate rejects is an Invalid *Error without any call). When a
// user with that username exists, AWS answers DuplicateResourceException;
// CreateUser then finds that user and returns its ID with Linked set.
func (c *Client) CreateUser(ctx context.Context, spec UserSpec) (Created, error) {
	spec = spec.Normalize()
	if fe := spec.Validate(); len(fe) > 0 {
		return Created{}, invalidSpec("CreateUser", fe)
	}
	if err := c.wait(ctx); err != nil {
		return Created{}, err
	}
	in := &connect.CreateUserInput{
		InstanceId:         c.instance(),
		Username:           awssdk.String(spec.Username),
		IdentityInfo:       identityToSDK(spec.IdentityInfo),
		PhoneConfig:        phoneToSDK(spec.PhoneConfig),
		SecurityProfileIds: spec.SecurityProfileIDs,
		RoutingProfileId:   awssdk.String(spec.RoutingProfileID),
	}
	if spec.HierarchyGroupID != "" {
		in.HierarchyGroupId = awssdk.String(spec.HierarchyGroupID)
	}
	out, err := c.api.CreateUser(ctx, in)
	if err == nil {
		return Created{UserID: awssdk.ToString(out.UserId), UserArn: awssdk.ToString(out.UserArn)}, nil
	}
	cerr := classify("CreateUser", err)
	if !IsKind(cerr, Duplicate) {
		return Created{}, cerr
	}
	u, found, ferr := c.FindUser(ctx, spec.Username)
	if ferr != nil {
		return Created{}, ferr
	}
	if !found {
		return Created{}, cerr // deleted in between: the job retries the create
	}
	return Created{UserID: u.ID, UserArn: u.Arn, Linked: true}, nil
}

// DescribedUser is a Connect user as DescribeUser returns it.
type DescribedUser struct {
	ID                 string
	Arn                string
	Username           string
	IdentityInfo       IdentityInfo
	PhoneConfig        PhoneConfig
	SecurityProfileIDs []string
	RoutingProfileID   string
	HierarchyGroupID   string
	DirectoryUserID    string
	LastModified       time.Time
}

// DescribeUser reads one user.
func (c *Client) DescribeUser(ctx context.Context, userID string) (*DescribedUser, error) {
	if err := c.wait(ctx); err != nil {
		return nil, err
	}
	out, err := c.api.DescribeUser(ctx, &connect.DescribeUserInput{InstanceId: c.instance(), UserId: awssdk.String(userID)})
	if err != nil {
		return nil, classify("DescribeUser", err)
	}
	u := out.User
	if u == nil {
		return nil, &Error{Kind: Transient, Op: "DescribeUser", Err: fmt.Errorf("empty answer")}
	}
	d := &DescribedUser{ID: awssdk.ToString(u.Id), Arn: awssdk.ToString(u.Arn), Username: awssdk.ToString(u.Username),
		SecurityProfileIDs: append([]string(nil), u.SecurityProfileIds...), RoutingProfileID: awssdk.ToString(u.RoutingProfileId),
		HierarchyGroupID: awssdk.ToString(u.HierarchyGroupId), DirectoryUserID: awssdk.ToString(u.DirectoryUserId), LastModified: awssdk.ToTime(u.LastModifiedTime)}
	if i := u.IdentityInfo; i != nil {
		d.IdentityInfo = IdentityInfo{FirstName: awssdk.ToString(i.FirstName), LastName: awssdk.ToString(i.LastName), Email: awssdk.ToString(i.Email),
			SecondaryEmail: awssdk.ToString(i.SecondaryEmail), Mobile: awssdk.ToString(i.Mobile)}
	}
	if p := u.PhoneConfig; p != nil {
		d.PhoneConfig = PhoneConfig{PhoneType: string(p.PhoneType), AutoAccept: p.AutoAccept, AfterContactWorkTimeLimit: p.AfterContactWorkTimeLimit,
			DeskPhoneNumber: awssdk.ToString(p.DeskPhoneNumber)}
	}
	return d, nil
}

// UpdateIdentityInfo replaces the user's identity information.
func (c *Client) UpdateIdentityInfo(ctx context.Context, userID string, info IdentityInfo) error {
	if err := c.wait(ctx); err != nil {
		return err
	}
	_, err := c.api.UpdateUserIdentityInfo(ctx, &connect.UpdateUserIdentityInfoInput{InstanceId: c.instance(), UserId: awssdk.String(userID), IdentityInfo: identityToSDK(info)})
	return classify("UpdateUserIdentityInfo", err)
}

// UpdateSecurityProfiles replaces the user's security profiles (1-10).
func (c *Client) UpdateSecurityProfiles(ctx context.Context, userID string, ids []string) error {
	if err := c.wait(ctx); err != nil {
		return err
	}
	_, err := c.api.UpdateUserSecurityProfiles(ctx, &connect.UpdateUserSecurityProfilesInput{InstanceId: c.instance(), UserId: awssdk.String(userID), SecurityProfileIds: ids})
	return classify("UpdateUserSecurityProfiles", err)
}

// UpdateRoutingProfile sets the user's routing profile.
func (c *Client) UpdateRoutingProfile(ctx context.Context, userID, routingProfileID string) error {
	if err := c.wait(ctx); err != nil {
		return err
	}
	_, err := c.api.UpdateUserRoutingProfile(ctx, &connect.UpdateUserRoutingProfileInput{InstanceId: c.instance(), UserId: awssdk.String(userID), RoutingProfileId: awssdk.String(routingProfileID)})
	return classify("UpdateUserRoutingProfile", err)
}

// UpdatePhoneConfig replaces the user's phone settings.
func (c *Client) UpdatePhoneConfig(ctx context.Context, userID string, p PhoneConfig) error {
	if err := c.wait(ctx); err != nil {
		return err
	}
	_, err := c.api.UpdateUserPhoneConfig(ctx, &connect.UpdateUserPhoneConfigInput{InstanceId: c.instance(), UserId: awssdk.String(userID), PhoneConfig: phoneToSDK(p)})
	return classify("UpdateUserPhoneConfig", err)
}

// UpdateHierarchy sets the user's hierarchy group ("" removes it).
func (c *Client) UpdateHierarchy(ctx context.Context, userID, hierarchyGroupID string) error {
	if err := c.wait(ctx); err != nil {
		return err
	}
	in := &connect.UpdateUserHierarchyInput{InstanceId: c.instance(), UserId: awssdk.String(userID)}
	if hierarchyGroupID != "" {
		in.HierarchyGroupId = awssdk.String(hierarchyGroupID)
	}
	_, err := c.api.UpdateUserHierarchy(ctx, in)
	return classify("UpdateUserHierarchy", err)
}

// DeleteUser removes the user. A NotFound error means the user (or the
// instance) is already gone; the caller decides whether that is success.
func (c *Client) DeleteUser(ctx context.Context, userID string) error {
	if err := c.wait(ctx); err != nil {
		return err
	}
	_, err := c.api.DeleteUser(ctx, &connect.DeleteUserInput{InstanceId: c.instance(), UserId: awssdk.String(userID)})
	return classify("DeleteUser", err)
}

func identityToSDK(i IdentityInfo) *types.UserIdentityInfo {
	opt := func(s string) *string {
		if s == "" {
			return nil
		}
		return awssdk.String(s)
	}
	return &types.UserIdentityInfo{FirstName: opt(i.FirstName), LastName: opt(i.LastName), Email: opt(i.Email),
		SecondaryEmail: opt(i.SecondaryEmail), Mobile: opt(i.Mobile)}
}

func phoneToSDK(p PhoneConfig) *types.UserPhoneConfig {
	t := p.PhoneType
	if t == "" {
		t = SoftPhone
	}
	out := &types.UserPhoneConfig{PhoneType: types.PhoneType(t), AutoAccept: p.AutoAccept, AfterContactWorkTimeLimit: p.AfterContactWorkTimeLimit}
	if p.DeskPhoneNumber != "" {
		out.DeskPhoneNumber = awssdk.String(p.DeskPhoneNumber)
	}
	return out
}
