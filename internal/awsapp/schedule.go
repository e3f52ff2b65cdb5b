package awsapp

import (
	"context"
	"time"

	"github.com/gatehouse/gatehouse/internal/catalog"
	"github.com/gatehouse/gatehouse/internal/provisioning"
)

// KindRefreshRoles re-imports an AWS app's IAM roles on a schedule.
const KindRefreshRoles = "aws.refresh_roles"

// Intervals of the periodic work.
const (
	RefreshRolesEvery = 6 * time.Hour
	ReconcileEvery    = time.Hour
)

// Periodic lists the scheduled jobs: role refresh for AWS apps with stored
// credentials, reconciliation for Amazon Connect apps with the API
// integration on.
func (in *Integration) Periodic(ctx context.Context) ([]provisioning.Periodic, error) {
	var out []provisioning.Periodic
	after := ""
	for {
		apps, err := in.Catalog.Store.Apps(ctx, catalog.AppQuery{After: after, Limit: 200})
		if err != nil {
			return nil, err
		}
		for _, a := range apps {
			if !IsAWSApp(a.Name) || a.Status != catalog.Active {
				continue
			}
			if _, ok := a.Secrets["secretKey"]; ok {
				out = append(out, provisioning.Periodic{Kind: KindRefreshRoles, AppID: a.ID, DedupeKey: "aws-refresh:" + a.ID, Interval: RefreshRolesEvery})
			}
			if a.Name == Connect {
				if p, err := in.Provisioning(ctx, a.ID); err == nil && p.APIIntegration {
					out = append(out, provisioning.Periodic{Kind: KindConnectReconcile, AppID: a.ID, DedupeKey: "connect-reconcile:" + a.ID, Interval: ReconcileEvery})
				}
			}
		}
		if len(apps) < 200 {
			return out, nil
		}
		after = apps[len(apps)-1].ID
	}
}

// HandleRefreshRoles is the handler of KindRefreshRoles.
func (in *Integration) HandleRefreshRoles(ctx context.Context, j *provisioning.Job) (any, error) {
	roles, err := in.RefreshRoles(ctx, j.AppID)
	if err != nil {
		return nil, jobError(err)
	}
	return map[string]any{"roles": len(roles)}, nil
}
