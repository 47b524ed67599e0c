-- One database per service: each owns its data and nothing else reads it.
CREATE DATABASE people;
CREATE DATABASE communities;
CREATE DATABASE listening;
CREATE DATABASE collaboration;
CREATE DATABASE strategy;
