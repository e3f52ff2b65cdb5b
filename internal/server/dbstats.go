package server

import (
	"database/sql"

	"github.com/prometheus/client_golang/prometheus"
)

// DBStatser reports database pool statistics.
type DBStatser interface {
	Stats() (writer, reader sql.DBStats)
}

// DBCollector exports database pool statistics.
type DBCollector struct {
	DB    DBStatser
	open  *prometheus.Desc
	inUse *prometheus.Desc
	wait  *prometheus.Desc
}

// NewDBCollector returns a collector of db's pool statistics.
func NewDBCollector(db DBStatser) *DBCollector {
	l := []string{"pool"}
	return &DBCollector{DB: db,
		open:  prometheus.NewDesc("gatehouse_db_open_connections", "Open database connections.", l, nil),
		inUse: prometheus.NewDesc("gatehouse_db_in_use_connections", "Database connections in use.", l, nil),
		wait:  prometheus.NewDesc("gatehouse_db_wait_seconds_total", "Time spent waiting for a database connection.", l, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *DBCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.open
	ch <- c.inUse
	ch <- c.wait
}

// Collect implements prometheus.Collector.
func (c *DBCollector) Collect(ch chan<- prometheus.Metric) {
	w, r := c.DB.Stats()
	for _, p := range []struct {
		name string
		s    sql.DBStats
	}{{"writer", w}, {"reader", r}} {
		ch <- prometheus.MustNewConstMetric(c.open, prometheus.GaugeValue, float64(p.s.OpenConnections), p.name)
		ch <- prometheus.MustNewConstMetric(c.inUse, prometheus.GaugeValue, float64(p.s.InUse), p.name)
		ch <- prometheus.MustNewConstMetric(c.wait, prometheus.CounterValue, p.s.WaitDuration.Seconds(), p.name)
	}
}
