package provisioning_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/gatehouse/gatehouse/internal/ids"
	"github.com/gatehouse/gatehouse/internal/provisioning"
	"github.com/gatehouse/gatehouse/internal/sqlstore"
)

// A change and the job it causes commit together; a runner then does the
// job under a token bucket shared by every app on the same AWS account and
// Region.
func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "jobs-example")
	defer os.RemoveAll(dir)
	db, err := sqlstore.Open(ctx, filepath.Join(dir, "gatehouse.db"))
	if err != nil {
		panic(err)
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		panic(err)
	}

	queue := &provisioning.Queue{Store: db.Jobs(), IDs: ids.NewSource(nil), Now: time.Now}
	// Inside a domain's transaction (here the directory's), *sqlstore.Tx
	// is the Enqueuer.
	err = db.InTx(ctx, func(tx *sqlstore.Tx) error {
		// ... tx.UpdateUser(u) ...
		return queue.Enqueue(tx, &provisioning.Job{
			Kind: provisioning.KindConnectUpdateUser, AppID: "0oa1", UserID: "00u1",
			DedupeKey: "app:0oa1:user:00u1",
			Payload:   json.RawMessage(`{"firstName":"Ana"}`),
		})
	})
	if err != nil {
		panic(err)
	}

	done := make(chan struct{})
	runner := &provisioning.Runner{
		Store:    db.Jobs(),
		Limiter:  provisioning.NewTokenBuckets(2, 5), // per node: divide by the number of nodes
		LimitKey: func(*provisioning.Job) string { return "aws:123456789012:us-east-1" },
		Handlers: map[string]provisioning.Handler{
			provisioning.KindConnectUpdateUser: func(ctx context.Context, j *provisioning.Job) (any, error) {
				var p struct{ FirstName string }
				if err := j.Decode(&p); err != nil {
					return nil, provisioning.Permanent(err)
				}
				fmt.Println("update", j.UserID, "to", p.FirstName)
				close(done)
				return map[string]string{"status": "updated"}, nil
			},
		},
	}
	runCtx, stop := context.WithCancel(ctx)
	stopped := make(chan error)
	go func() { stopped <- runner.Run(runCtx) }()
	<-done
	stop()
	<-stopped
	st, _ := queue.Status(ctx, "0oa1")
	fmt.Println("succeeded:", st.Counts[provisioning.Succeeded])
	// Output:
	// update 00u1 to Ana
	// succeeded: 1
}
