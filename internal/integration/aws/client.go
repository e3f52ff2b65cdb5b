package aws

import (
	"context"
	"errors"
	"fmt"
	"net/url"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

// Credentials are the static AWS API credentials of the app's API
// integration (an IAM user allowed iam:ListRoles and iam:ListAccountAliases).
type Credentials struct {
	AccessKeyID     string
	SecretAccessKey string
}

// ClientOptions configures a Client. Zero values get defaults.
type ClientOptions struct {
	// Region signs the calls and picks the partition's IAM and STS
	// endpoints; default us-east-1 (use APIRegion(settings)).
	Region string
	// Endpoint replaces the AWS endpoints (BaseEndpoint of the IAM and STS
	// clients). Only for the Gatehouse AWS sandbox and tests.
	Endpoint string
	// MaxAttempts is the SDK's attempts per call (1 = no retry); default 3.
	MaxAttempts int
	// PageSize is ListRoles' MaxItems per page; default 100 (IAM's default).
	PageSize int32
}

// Client calls IAM and STS with an app's credentials.
type Client struct {
	opts ClientOptions
}

// NewClient returns a Client.
func NewClient(o ClientOptions) *Client {
	if o.Region == "" {
		o.Region = "us-east-1"
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 3
	}
	if o.PageSize <= 0 {
		o.PageSize = 100
	}
	return &Client{opts: o}
}

// APIError is an error answered by AWS, with AWS's own code and message
// (safe to show to the administrator: it names no secret).
type APIError struct {
	Op         string // e.g. "sts:GetCallerIdentity"
	Code       string // e.g. "SignatureDoesNotMatch"
	Message    string // AWS's message
	StatusCode int    // HTTP status, 0 when unknown
	Err        error
}

func (e *APIError) Error() string {
	return fmt.Sprintf("aws: %s: %s: %s", e.Op, e.Code, e.Message)
}

func (e *APIError) Unwrap() error { return e.Err }

// wrap turns an SDK error into *APIError when AWS answered, else wraps it.
func wrap(op string, err error) error {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		out := &APIError{Op: op, Code: ae.ErrorCode(), Message: ae.ErrorMessage(), Err: err}
		var sc interface{ HTTPStatusCode() int }
		if errors.As(err, &sc) {
			out.StatusCode = sc.HTTPStatusCode()
		}
		return out
	}
	return fmt.Errorf("aws: %s: %w", op, err)
}

func (c *Client) config(creds Credentials) awssdk.Config {
	cfg := awssdk.Config{
		Region:      c.opts.Region,
		Credentials: credentials.NewStaticCredentialsProvider(creds.AccessKeyID, creds.SecretAccessKey, ""),
	}
	n := c.opts.MaxAttempts
	if n == 1 {
		cfg.Retryer = func() awssdk.Retryer { return awssdk.NopRetryer{} }
	} else {
		cfg.Retryer = func() awssdk.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) { o.MaxAttempts = n })
		}
	}
	return cfg
}

func (c *Client) iam(creds Credentials) *iam.Client {
	return iam.NewFromConfig(c.config(creds), func(o *iam.Options) {
		if c.opts.Endpoint != "" {
			o.BaseEndpoint = awssdk.String(c.opts.Endpoint)
		}
	})
}

func (c *Client) sts(creds Credentials) *sts.Client {
	return sts.NewFromConfig(c.config(creds), func(o *sts.Options) {
		if c.opts.Endpoint != "" {
			o.BaseEndpoint = awssdk.String(c.opts.Endpoint)
		}
	})
}

// CallerIdentity is who the credentials belong to.
type CallerIdentity struct {
	Account string
	Arn     string
	UserID  string
}

// TestCredentials is "Test API Credentials": STS GetCallerIdentity (are the
// keys valid?) then IAM ListRoles with MaxItems 1 (may they read roles?). On
// failure it returns *APIError carrying AWS's code and message.
func (c *Client) TestCredentials(ctx context.Context, creds Credentials) (CallerIdentity, error) {
	out, err := c.sts(creds).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return CallerIdentity{}, wrap("sts:GetCallerIdentity", err)
	}
	id := CallerIdentity{Account: awssdk.ToString(out.Account), Arn: awssdk.ToString(out.Arn), UserID: awssdk.ToString(out.UserId)}
	if _, err := c.iam(creds).ListRoles(ctx, &iam.ListRolesInput{MaxItems: awssdk.Int32(1)}); err != nil {
		return id, wrap("iam:ListRoles", err)
	}
	return id, nil
}

// ImportRoles lists every IAM role of the credentials' account (all pages)
// and keeps those whose trust policy lets one of providerArns assume them
// with sts:AssumeRoleWithSAML. Each role carries the account alias when the
// account has one (an AccessDenied on ListAccountAliases leaves it empty).
func (c *Client) ImportRoles(ctx context.Context, creds Credentials, providerArns []string) ([]Role, error) {
	want := map[string]bool{}
	for _, a := range providerArns {
		want[a] = true
	}
	client := c.iam(creds)
	alias := ""
	al, err := client.ListAccountAliases(ctx, &iam.ListAccountAliasesInput{})
	switch {
	case err == nil:
		if len(al.AccountAliases) > 0 {
			alias = al.AccountAliases[0]
		}
	default:
		var ae smithy.APIError
		if !errors.As(err, &ae) || (ae.ErrorCode() != "AccessDenied" && ae.ErrorCode() != "AccessDeniedException") {
			return nil, wrap("iam:ListAccountAliases", err)
		}
	}
	var roles []Role
	pages := iam.NewListRolesPaginator(client, &iam.ListRolesInput{MaxItems: awssdk.Int32(c.opts.PageSize)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, wrap("iam:ListRoles", err)
		}
		for _, r := range page.Roles {
			arn := awssdk.ToString(r.Arn)
			parts, err := ParseRoleArn(arn)
			if err != nil {
				continue
			}
			doc := awssdk.ToString(r.AssumeRolePolicyDocument)
			if d, err := url.PathUnescape(doc); err == nil {
				doc = d
			}
			tp, err := ParseTrustPolicy(doc)
			if err != nil {
				continue // not a policy Gatehouse understands: not offered
			}
			var provs []string
			for _, p := range tp.SAMLProviders() {
				if want[p] {
					provs = append(provs, p)
				}
			}
			if len(provs) == 0 {
				continue
			}
			roles = append(roles, Role{Arn: arn, Name: awssdk.ToString(r.RoleName), AccountID: parts.AccountID, AccountAlias: alias, ProviderArns: provs})
		}
	}
	return roles, nil
}
