-- The store's schema as Proactief made it before migrations (create_all), dumped
-- from a store file made by commit 1f93177; tests adopt such a file.
CREATE TABLE run (
	benefit VARCHAR NOT NULL,
	period VARCHAR NOT NULL,
	as_of DATE NOT NULL,
	started_at DATETIME NOT NULL,
	finished_at DATETIME,
	status VARCHAR NOT NULL,
	counts VARCHAR NOT NULL,
	flow_run_id VARCHAR,
	id VARCHAR NOT NULL,
	PRIMARY KEY (id)
);
CREATE INDEX ix_run_benefit ON run (benefit);
CREATE TABLE decision (
	benefit VARCHAR NOT NULL,
	period VARCHAR NOT NULL,
	subject VARCHAR NOT NULL,
	subject_ref VARCHAR NOT NULL,
	outcome VARCHAR NOT NULL,
	category VARCHAR,
	amount_cents INTEGER,
	extra_credit_cents INTEGER,
	reasons VARCHAR NOT NULL,
	evidence VARCHAR NOT NULL,
	rule_version VARCHAR NOT NULL,
	run_id VARCHAR NOT NULL,
	decided_at DATETIME NOT NULL,
	id INTEGER NOT NULL,
	PRIMARY KEY (id),
	UNIQUE (benefit, period, subject)
);
CREATE INDEX ix_decision_subject_ref ON decision (subject_ref);
CREATE TABLE review_case (
	benefit VARCHAR NOT NULL,
	period VARCHAR NOT NULL,
	subject VARCHAR NOT NULL,
	subject_ref VARCHAR NOT NULL,
	reasons VARCHAR NOT NULL,
	evidence VARCHAR NOT NULL,
	status VARCHAR NOT NULL,
	run_id VARCHAR NOT NULL,
	created_at DATETIME NOT NULL,
	closed_at DATETIME,
	resolution VARCHAR,
	decided_by VARCHAR,
	motivation VARCHAR,
	id INTEGER NOT NULL,
	PRIMARY KEY (id)
);
CREATE INDEX ix_review_case_benefit ON review_case (benefit);
CREATE INDEX ix_review_case_status ON review_case (status);
CREATE INDEX ix_review_case_subject_ref ON review_case (subject_ref);
CREATE TABLE document (
	idempotency_key VARCHAR NOT NULL,
	benefit VARCHAR NOT NULL,
	period VARCHAR NOT NULL,
	subject VARCHAR NOT NULL,
	kind VARCHAR NOT NULL,
	reference VARCHAR NOT NULL,
	path VARCHAR NOT NULL,
	status VARCHAR NOT NULL,
	run_id VARCHAR NOT NULL,
	recorded_at DATETIME NOT NULL,
	written_at DATETIME,
	id INTEGER NOT NULL,
	PRIMARY KEY (id),
	UNIQUE (idempotency_key)
);
CREATE TABLE registry_consultation (
	run_id VARCHAR,
	service VARCHAR NOT NULL,
	consumer VARCHAR NOT NULL,
	purpose VARCHAR NOT NULL,
	subject_ref VARCHAR NOT NULL,
	at DATETIME NOT NULL,
	result_code VARCHAR NOT NULL,
	duration_ms INTEGER NOT NULL,
	attempt INTEGER NOT NULL,
	id INTEGER NOT NULL,
	PRIMARY KEY (id)
);
CREATE INDEX ix_registry_consultation_run_id ON registry_consultation (run_id);
CREATE TABLE account (
	username VARCHAR NOT NULL,
	display_name VARCHAR NOT NULL,
	role VARCHAR NOT NULL,
	password_hash VARCHAR NOT NULL,
	active BOOLEAN NOT NULL,
	failed_logins INTEGER NOT NULL,
	locked_until DATETIME,
	created_at DATETIME NOT NULL,
	id INTEGER NOT NULL,
	PRIMARY KEY (id)
);
CREATE UNIQUE INDEX ix_account_username ON account (username);
CREATE TABLE web_session (
	token_hash VARCHAR NOT NULL,
	username VARCHAR NOT NULL,
	csrf_token VARCHAR NOT NULL,
	created_at DATETIME NOT NULL,
	last_seen_at DATETIME NOT NULL,
	expires_at DATETIME NOT NULL,
	id INTEGER NOT NULL,
	PRIMARY KEY (id)
);
CREATE INDEX ix_web_session_username ON web_session (username);
CREATE UNIQUE INDEX ix_web_session_token_hash ON web_session (token_hash);
CREATE TABLE audit_event (
	at DATETIME NOT NULL,
	actor VARCHAR NOT NULL,
	action VARCHAR NOT NULL,
	benefit VARCHAR,
	subject_ref VARCHAR,
	outcome VARCHAR,
	detail VARCHAR NOT NULL,
	id INTEGER NOT NULL,
	PRIMARY KEY (id)
);
CREATE INDEX ix_audit_event_at ON audit_event (at);
CREATE INDEX ix_audit_event_action ON audit_event (action);
CREATE INDEX ix_audit_event_actor ON audit_event (actor);
CREATE TABLE lez_registration (
	card_holder VARCHAR NOT NULL,
	card_holder_ref VARCHAR NOT NULL,
	plate VARCHAR NOT NULL,
	applicant_ref VARCHAR NOT NULL,
	client VARCHAR NOT NULL,
	registered_at DATETIME NOT NULL,
	valid_until DATE NOT NULL,
	status VARCHAR NOT NULL,
	checked_at DATETIME NOT NULL,
	ended_at DATETIME,
	end_reason VARCHAR,
	id INTEGER NOT NULL,
	PRIMARY KEY (id)
);
CREATE INDEX ix_lez_registration_card_holder ON lez_registration (card_holder);
CREATE INDEX ix_lez_registration_status ON lez_registration (status);
CREATE INDEX ix_lez_registration_plate ON lez_registration (plate);
CREATE TABLE api_client (
	name VARCHAR NOT NULL,
	prefix VARCHAR NOT NULL,
	key_hash VARCHAR NOT NULL,
	created_at DATETIME NOT NULL,
	revoked_at DATETIME,
	id INTEGER NOT NULL,
	PRIMARY KEY (id)
);
CREATE INDEX ix_api_client_name ON api_client (name);
CREATE UNIQUE INDEX ix_api_client_key_hash ON api_client (key_hash);
CREATE TABLE held_invoice (
	idempotency_key VARCHAR NOT NULL,
	benefit VARCHAR NOT NULL,
	period VARCHAR NOT NULL,
	subject VARCHAR NOT NULL,
	subject_ref VARCHAR NOT NULL,
	school_year VARCHAR NOT NULL,
	"check" INTEGER NOT NULL,
	school_id VARCHAR NOT NULL,
	school_name VARCHAR NOT NULL,
	pupil_class VARCHAR NOT NULL,
	family_discount BOOLEAN NOT NULL,
	lines VARCHAR NOT NULL,
	run_id VARCHAR NOT NULL,
	held_at DATETIME NOT NULL,
	id INTEGER NOT NULL,
	PRIMARY KEY (id),
	UNIQUE (idempotency_key)
);
CREATE INDEX ix_held_invoice_period ON held_invoice (period);
