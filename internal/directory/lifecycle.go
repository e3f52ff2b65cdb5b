package directory

import "github.com/gatehouse/gatehouse/internal/errs"

// Operation is a lifecycle operation of Okta's Users API.
type Operation string

// Lifecycle operations.
const (
	OpActivate       Operation = "activate"
	OpReactivate     Operation = "reactivate"
	OpDeactivate     Operation = "deactivate"
	OpSuspend        Operation = "suspend"
	OpUnsuspend      Operation = "unsuspend"
	OpUnlock         Operation = "unlock"
	OpExpirePassword Operation = "expire_password"
	OpResetPassword  Operation = "reset_password"
)

// Next returns the status a user moves to under op, or an error naming why
// the transition is illegal. hasPassword matters for activation: a user with
// a password becomes ACTIVE, one without waits in PROVISIONED for the
// activation flow.
func Next(from Status, op Operation, hasPassword bool) (Status, error) {
	switch op {
	case OpActivate:
		switch from {
		case Staged, Deprovisioned:
			if hasPassword {
				return Active, nil
			}
			return Provisioned, nil
		case Provisioned:
			if hasPassword {
				return Active, nil
			}
			return Provisioned, nil
		case Active:
			return "", &errs.Error{Kind: errs.IllegalState, Code: "E0000016", Msg: "Activation failed because the user is already active"}
		}
	case OpReactivate:
		if from == Provisioned {
			return Provisioned, nil
		}
		return "", &errs.Error{Kind: errs.IllegalState, Code: "E0000038", Msg: "This operation is not allowed in the user's current status."}
	case OpDeactivate:
		if from != Deprovisioned {
			return Deprovisioned, nil
		}
	case OpSuspend:
		if from == Active {
			return Suspended, nil
		}
		return "", &errs.Error{Kind: errs.IllegalState, Code: "E0000001", Msg: "Cannot suspend a user that is not active"}
	case OpUnsuspend:
		if from == Suspended {
			return Active, nil
		}
		return "", &errs.Error{Kind: errs.IllegalState, Code: "E0000001", Msg: "Cannot unsuspend a user that is not suspended"}
	case OpUnlock:
		if from == LockedOut {
			return Active, nil
		}
		return "", &errs.Error{Kind: errs.IllegalState, Code: "E0000032", Msg: "Unlock is not allowed for this user."}
	case OpExpirePassword:
		switch from {
		case Active, PasswordExpired, Recovery:
			return PasswordExpired, nil
		}
	case OpResetPassword:
		switch from {
		case Active, Recovery, PasswordExpired, LockedOut, Provisioned:
			return Recovery, nil
		}
	default:
		return "", errs.NotFoundf("Not found: Resource not found: %s (Operation)", op)
	}
	return "", &errs.Error{Kind: errs.IllegalState, Code: "E0000038", Msg: "This operation is not allowed in the user's current status."}
}

// CanSignIn reports whether a user in status s may authenticate with a
// password. Users in RECOVERY or PASSWORD_EXPIRED authenticate but must then
// set a new password.
func CanSignIn(s Status) bool {
	switch s {
	case Active, PasswordExpired, Recovery:
		return true
	}
	return false
}
