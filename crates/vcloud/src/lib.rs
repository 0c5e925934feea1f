//! VMware vCloud Director and vCloud Air SDK: sessions, query service, tasks, metrics, ANS firewall/NAT/IPsec and DR failover.
#![cfg_attr(docsrs, feature(doc_cfg))]
