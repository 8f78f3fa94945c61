"""Jobs that run engines and the mirror and measure them: compare, sweep, resource estimates."""
