/* t_net - unit tests of common/net.c: address splitting and CIDR ranges */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "net.h"
#include "tap.h"

struct split_case {
	const char *in;
	int want;               /* 0 or -1 */
	const char *host, *port;
};

static const struct split_case splits[] = {
	{ "127.0.0.1:24224", 0, "127.0.0.1", "24224" },
	{ "agg:1", 0, "agg", "1" },
	{ "agg", 0, "agg", "24224" },
	{ ":9880", 0, "DEF", "9880" },
	{ "9880", 0, "DEF", "9880" },
	{ "[::1]:24224", 0, "::1", "24224" },
	{ "[::1]", 0, "::1", "24224" },
	{ "::1", 0, "::1", "24224" },
	{ "h:0", 0, "h", "0" },
	{ "h:65535", 0, "h", "65535" },
	/* ports that wrap, are not numbers, or are missing */
	{ "127.0.0.1:99999", -1, NULL, NULL },
	{ "h:65536", -1, NULL, NULL },
	{ "h:1x", -1, NULL, NULL },
	{ "h:-5", -1, NULL, NULL },
	{ ":-5", -1, NULL, NULL },
	{ "h:+5", -1, NULL, NULL },
	{ "h: 5", -1, NULL, NULL },
	{ "h:http", -1, NULL, NULL },
	{ "h:", -1, NULL, NULL },
	{ "h:000001", -1, NULL, NULL },
	{ "99999", -1, NULL, NULL },
	{ "[::1]:99999", -1, NULL, NULL },
	{ "[::1", -1, NULL, NULL },
	{ "[::1]x", -1, NULL, NULL },
};

static void
test_split(void)
{
	char host[64], port[16];
	size_t i;
	int r;

	for (i = 0; i < sizeof(splits) / sizeof(splits[0]); i++) {
		const struct split_case *c = &splits[i];

		r = net_split(c->in, "DEF", "24224", host, sizeof(host), port,
		    sizeof(port));
		is_int(r, c->want, "net_split(\"%s\") is %d", c->in, c->want);
		if (r == 0 && c->want == 0)
			ok(strcmp(host, c->host) == 0 &&
			    strcmp(port, c->port) == 0,
			    "\"%s\": host %s port %s", c->in, host, port);
	}
	is_int(net_split("a-very-long-host-name:1", "", "1", host, 8, port,
	    sizeof(port)), -1, "a host that does not fit is refused");
	is_int(net_split("h", "", "99999", host, sizeof(host), port,
	    sizeof(port)), -1, "a bad default port is refused too");
}

static void
test_cidr(void)
{
	struct net_cidr c;
	struct sockaddr_in a4;
	struct sockaddr_in6 a6;

	memset(&a4, 0, sizeof(a4));
	a4.sin_family = AF_INET;
	inet_pton(AF_INET, "10.1.2.3", &a4.sin_addr);
	memset(&a6, 0, sizeof(a6));
	a6.sin6_family = AF_INET6;
	inet_pton(AF_INET6, "::ffff:10.1.2.3", &a6.sin6_addr);
	is_int(net_cidr_parse("10.0.0.0/8", &c), 0, "10.0.0.0/8 parses");
	ok(net_cidr_match(&c, (struct sockaddr *)&a4), "10.1.2.3 in 10/8");
	ok(net_cidr_match(&c, (struct sockaddr *)&a6),
	    "v4-mapped ::ffff:10.1.2.3 in 10/8");
	is_int(net_cidr_parse("192.168.0.0/16", &c), 0, "192.168/16 parses");
	ok(!net_cidr_match(&c, (struct sockaddr *)&a4), "10.1.2.3 not in it");
	is_int(net_cidr_parse("10.0.0.0/33", &c), -1, "/33 is refused");
	is_int(net_cidr_parse("nonsense", &c), -1, "nonsense is refused");
}

int
main(void)
{
	test_split();
	test_cidr();
	return done_testing();
}
