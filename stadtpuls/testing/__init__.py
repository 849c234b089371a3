"""Real-server test harness: Mosquitto and InfluxDB processes for the test suite."""
